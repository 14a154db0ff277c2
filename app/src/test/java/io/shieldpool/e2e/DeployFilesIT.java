package io.shieldpool.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The container and Kubernetes files agree with the daemon they ship: the ConfigMap's config
 * passes the packaged launcher's check-config (and fails it without the token the Deployment
 * passes from its Secret), the stop timeout covers the grace, the probes and port match the
 * admin server. (Building the image needs a registry this machine does not reach; its COPY
 * sources and entry point are checked instead.)
 */
@Timeout(120)
class DeployFilesIT {

    private static final Path ROOT = DaemonProcess.LAUNCHER.toAbsolutePath().getParent().getParent().getParent();
    private static final Path MANIFEST = ROOT.resolve("deploy/kubernetes/shieldpool.yaml");
    private static final Path CONTAINERFILE = ROOT.resolve("deploy/container/Containerfile");

    @TempDir
    Path dir;

    /** The block under {@code shieldpool.conf: |}, unindented. */
    private static String configMapConfig(List<String> manifest) {
        StringBuilder config = new StringBuilder();
        boolean inside = false;
        for (String line : manifest) {
            if (line.trim().equals("shieldpool.conf: |")) {
                inside = true;
            } else if (inside && (line.startsWith("    ") || line.isBlank())) {
                config.append(line.length() >= 4 ? line.substring(4) : "").append('\n');
            } else if (inside) {
                break;
            }
        }
        assertThat(config).as("the ConfigMap's shieldpool.conf").isNotEmpty();
        return config.toString();
    }

    private static long number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertThat(m.find()).as(regex).isTrue();
        return Long.parseLong(m.group(1));
    }

    private DaemonProcess checkConfig(Path file, Map<String, String> env) throws IOException {
        return DaemonProcess.launch(List.of(DaemonProcess.LAUNCHER.toString(), "check-config", file.toString()), env);
    }

    @Test
    void theConfigMapIsValidWithTheSecretsTokenAndOnlyWithIt() throws Exception {
        List<String> manifest = Files.readAllLines(MANIFEST);
        Path config = Files.writeString(dir.resolve("shieldpool.conf"), configMapConfig(manifest));
        String tokenVariable = "CONFIG_FORCE_shieldpool_admin_token";
        assertThat(manifest).anyMatch(l -> l.trim().equals("- name: " + tokenVariable));

        try (DaemonProcess check = checkConfig(config, Map.of(tokenVariable, "a-token-from-the-secret"))) {
            assertThat(check.awaitExit(Duration.ofSeconds(60))).as(check.transcript()).isZero();
        }
        // The pod's admin server listens on every address: without the Secret it would not start.
        try (DaemonProcess check = checkConfig(config, Map.of())) {
            assertThat(check.awaitExit(Duration.ofSeconds(60))).isEqualTo(78);
            assertThat(check.stderr()).anyMatch(l -> l.contains("shieldpool.admin.token"));
        }
    }

    @Test
    void stopTimeoutProbesAndPortAgreeWithTheConfig() throws Exception {
        String manifest = Files.readString(MANIFEST);
        String config = configMapConfig(manifest.lines().toList());
        long graceSeconds = number(config, "shutdown\\.grace = (\\d+)s");
        long terminationSeconds = number(manifest, "terminationGracePeriodSeconds: (\\d+)");
        assertThat(terminationSeconds).as("the kubelet's SIGKILL comes after the drain's grace, with margin")
                .isGreaterThanOrEqualTo(graceSeconds + 10);
        long adminPort = number(config, "port = (\\d+)");
        assertThat(number(manifest, "containerPort: (\\d+)")).isEqualTo(adminPort);
        assertThat(number(manifest, "prometheus.io/port: \"(\\d+)\"")).isEqualTo(adminPort);
        assertThat(manifest).contains("path: /readyz", "path: /healthz", "readOnlyRootFilesystem: true",
                "runAsNonRoot: true");
        assertThat(number(Files.readString(CONTAINERFILE), "EXPOSE (\\d+)")).isEqualTo(adminPort);
    }

    /** Issue 13: the heap is bounded by the launcher, and both supervisors' memory limits sit above it. */
    @Test
    void theMemoryLimitsOfTheUnitAndTheManifestAgreeAndLeaveRoomAboveTheLaunchersHeap() throws Exception {
        long heapMb = number(Files.readString(DaemonProcess.LAUNCHER), "-Xmx(\\d+)m");
        long unitMb = number(Files.readString(ROOT.resolve("systemd/shieldpool.service")), "(?m)^MemoryMax=(\\d+)M$");
        long podMb = number(Files.readString(MANIFEST), "limits:\\s+memory: (\\d+)Mi");
        assertThat(unitMb).as("the unit's MemoryMax= and the pod's memory limit").isEqualTo(podMb);
        assertThat(unitMb).as("room for class metadata, code, threads and malloc above the heap")
                .isGreaterThanOrEqualTo(heapMb + 128);
    }

    @Test
    void theContainerfileCopiesWhatTheBuildMakesAndRunsTheLauncherUnderAnInit() throws Exception {
        List<String> lines = Files.readAllLines(CONTAINERFILE);
        List<String> sources = new ArrayList<>();
        for (String line : lines) {
            if (line.startsWith("COPY ")) {
                sources.add(line.split("\\s+")[1]);
            }
        }
        assertThat(sources).contains("app/target/shieldpool.jar", "app/bin/shieldpool");
        for (String source : sources) {
            assertThat(ROOT.resolve(source)).as("COPY source (after mvn package)").exists();
        }
        assertThat(lines).contains("STOPSIGNAL SIGTERM")
                .anyMatch(l -> l.startsWith("ENTRYPOINT [\"/usr/bin/tini\", \"--\", \"/usr/bin/shieldpool\"]"))
                .anyMatch(l -> l.startsWith("USER ") && !l.contains("root"));
    }
}
