package io.shieldpool.example;

import io.shieldpool.plugin.AsyncSectionPlugin;
import io.shieldpool.plugin.SectionContext;
import io.vertx.core.Future;

/**
 * A plug-in that cannot start, as one whose required setting or credential is missing: its
 * constructor throws, and shieldpool refuses to start with one clear line (exit 78). Selecting any
 * other plug-in of this jar is unaffected.
 */
public final class FailingConstructorPlugin implements AsyncSectionPlugin {

    public FailingConstructorPlugin() {
        if (!"yes".equals(System.getenv("EXAMPLE_FAILING_PLUGIN_OK"))) {
            throw new IllegalStateException("EXAMPLE_FAILING_PLUGIN_OK is not set: this example refuses to start");
        }
    }

    @Override
    public String type() {
        return "example-failing";
    }

    @Override
    public Future<?> runSection(SectionContext section) {
        return Future.succeededFuture();
    }
}
