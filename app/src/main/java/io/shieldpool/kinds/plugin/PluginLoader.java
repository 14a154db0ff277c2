package io.shieldpool.kinds.plugin;

import io.shieldpool.config.ConfigProblem;
import io.shieldpool.config.InvalidConfigException;
import io.shieldpool.plugin.AsyncSectionPlugin;
import io.shieldpool.plugin.BlockingSectionPlugin;
import io.shieldpool.plugin.SectionPlugin;

import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Finds the plug-in that {@code shieldpool.work.type} names, with {@link ServiceLoader} on the
 * classpath and in the jars of {@code shieldpool.work.plugin-directory}. Every way this can go
 * wrong (no such plug-in, a constructor that throws, a broken services file, two plug-ins with one
 * type) becomes one {@link ConfigProblem} naming {@code work.type}, so the daemon and check-config
 * report it like any other configuration mistake (exit 78), never as a stack trace.
 */
final class PluginLoader {

    private static final String TYPE_KEY = "shieldpool.work.type";

    private PluginLoader() {
    }

    static SectionPlugin load(String type, Optional<Path> directory, String where, List<String> builtIn)
            throws InvalidConfigException {
        String searched = directory.map(d -> "the classpath and " + d + "/*.jar").orElse("the classpath");
        ClassLoader loader;
        try {
            loader = classLoader(directory);
        } catch (IOException e) {
            throw problem(type, "a plug-in type; cannot list " + directory.orElseThrow() + ": " + e.getMessage(), where);
        }
        List<SectionPlugin> matches = new ArrayList<>();
        TreeSet<String> found = new TreeSet<>();
        List<String> broken = new ArrayList<>();
        var providers = ServiceLoader.load(SectionPlugin.class, loader).stream().iterator();
        while (true) {
            ServiceLoader.Provider<SectionPlugin> provider;
            try {
                if (!providers.hasNext()) {
                    break;
                }
                provider = providers.next();
            } catch (ServiceConfigurationError e) {
                broken.add(reason(e));
                continue;
            }
            SectionPlugin plugin;
            try {
                plugin = provider.get();
            } catch (ServiceConfigurationError | RuntimeException | LinkageError e) {
                broken.add(provider.type().getName() + " could not be constructed: " + reason(e));
                continue;
            }
            String pluginType;
            try {
                pluginType = plugin.type();
            } catch (RuntimeException e) {
                broken.add(provider.type().getName() + ".type() threw " + reason(e));
                continue;
            }
            found.add(pluginType);
            if (type.equals(pluginType)) {
                if (!(plugin instanceof AsyncSectionPlugin) && !(plugin instanceof BlockingSectionPlugin)) {
                    throw problem(type, "a plug-in implementing AsyncSectionPlugin or BlockingSectionPlugin; "
                            + plugin.getClass().getName() + " implements neither", where);
                }
                matches.add(plugin);
            }
        }
        if (matches.size() > 1) {
            throw problem(type, "exactly one plug-in of that type; found " + matches.size() + " in " + searched + ": "
                    + matches.stream().map(p -> p.getClass().getName()).toList(), where);
        }
        if (matches.isEmpty()) {
            String expected = String.join(", ", builtIn) + ", or the type of a plug-in in " + searched + "; found "
                    + (found.isEmpty() ? "no plug-in" : "plug-ins " + String.join(", ", found))
                    + (broken.isEmpty() ? "" : "; broken: " + String.join("; ", broken));
            throw problem(type, expected, where);
        }
        return matches.getFirst();
    }

    private static ClassLoader classLoader(Optional<Path> directory) throws IOException {
        ClassLoader parent = PluginLoader.class.getClassLoader();
        if (directory.isEmpty()) {
            return parent;
        }
        List<URL> jars = new ArrayList<>();
        try (Stream<Path> entries = Files.list(directory.get())) {
            for (Path jar : entries.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList()) {
                jars.add(toUrl(jar));
            }
        }
        // why: never closed; the plug-in's classes are in use until the process exits.
        return new URLClassLoader("shieldpool-plugins", jars.toArray(URL[]::new), parent);
    }

    private static URL toUrl(Path jar) throws MalformedURLException {
        return jar.toAbsolutePath().toUri().toURL();
    }

    private static String reason(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return root.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    private static InvalidConfigException problem(String type, String expected, String where) {
        return new InvalidConfigException(List.of(new ConfigProblem(TYPE_KEY, type, expected, where)));
    }
}
