package io.shieldpool.cli;

import io.shieldpool.cli.ProcessIdentity.Identity;
import io.shieldpool.cli.ProcessIdentity.Kind;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/** Command lines as /proc/PID/cmdline gives them, judged (the end-to-end cases are in ReloadCommandIT). */
class ProcessIdentityTest {

    private static final String JAVA = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java";
    private static final List<String> LAUNCHER_FLAGS = List.of("-XX:+UseSerialGC", "-Xms16m", "-Xss512k",
            "--enable-native-access=ALL-UNNAMED", "-Xlog:all=warning:stderr:uptime,level,tags", "-ea:io.shieldpool...");
    private static final Function<Path, Optional<String>> JARS = jar -> Optional.ofNullable(Map.of(
            Path.of("/usr/share/shieldpool/shieldpool.jar"), ProcessIdentity.MAIN_CLASS,
            Path.of("/opt/other/app.jar"), "com.example.App").get(jar));

    private static Identity judge(String... argv) {
        return ProcessIdentity.judge(List.of(argv), JARS);
    }

    private static String[] java(List<String> flags, String... rest) {
        List<String> argv = new java.util.ArrayList<>(List.of(JAVA));
        argv.addAll(flags);
        argv.addAll(List.of(rest));
        return argv.toArray(String[]::new);
    }

    @Test
    void theDaemonAsTheLauncherExecsIt() {
        Identity daemon = judge(java(LAUNCHER_FLAGS, "-jar", "/usr/share/shieldpool/shieldpool.jar",
                "--config", "/etc/shieldpool/shieldpool.conf"));
        assertThat(daemon.kind()).isEqualTo(Kind.DAEMON);
        assertThat(daemon.command()).isEqualTo(JAVA + " [flags] -jar /usr/share/shieldpool/shieldpool.jar --config /etc/shieldpool/shieldpool.conf");
        assertThat(judge(java(LAUNCHER_FLAGS, "-jar", "/usr/share/shieldpool/shieldpool.jar")).kind()).isEqualTo(Kind.DAEMON);
        assertThat(judge(java(LAUNCHER_FLAGS, "-jar", "/usr/share/shieldpool/shieldpool.jar", "-c", "reload")).kind())
                .as("a config file named like a command").isEqualTo(Kind.DAEMON);
        assertThat(judge(java(List.of("-cp", "/build/classes:/build/lib/*"), ProcessIdentity.MAIN_CLASS, "--config=x.conf")).kind())
                .as("from a class path").isEqualTo(Kind.DAEMON);
    }

    @Test
    void theLauncherBeforeItsExecIsTheDaemonStarting() {
        assertThat(judge("bash", "/usr/bin/shieldpool", "--config", "/etc/shieldpool/shieldpool.conf").kind()).isEqualTo(Kind.DAEMON);
        assertThat(judge("/usr/bin/env", "bash", "bin/shieldpool", "--config", "x.conf").kind()).isEqualTo(Kind.DAEMON);
        assertThat(judge("env", "--default-signal=INT,QUIT,HUP", "bin/shieldpool").kind()).isEqualTo(Kind.DAEMON);
        Identity cli = judge("bash", "/usr/bin/shieldpool", "status", "--json");
        assertThat(cli.kind()).isEqualTo(Kind.OTHER);
        assertThat(cli.why()).isEqualTo("the shieldpool command 'status', not the daemon");
    }

    @Test
    void otherProcessesAreSaidWhatTheyAre() {
        Identity cli = judge(java(LAUNCHER_FLAGS, "-jar", "/usr/share/shieldpool/shieldpool.jar", "reload", "--pid", "7"));
        assertThat(cli.kind()).isEqualTo(Kind.OTHER);
        assertThat(cli.why()).isEqualTo("the shieldpool command 'reload', not the daemon");
        assertThat(cli.command()).endsWith("-jar /usr/share/shieldpool/shieldpool.jar reload --pid 7");

        Identity app = judge(JAVA, "-Xmx1g", "-jar", "/opt/other/app.jar", "serve");
        assertThat(app.kind()).isEqualTo(Kind.OTHER);
        assertThat(app.why()).isEqualTo("a java process running /opt/other/app.jar (main class com.example.App)");

        Identity plain = judge(JAVA, "-cp", "/tmp/classes", "Sleeper", "120");
        assertThat(plain.kind()).isEqualTo(Kind.OTHER);
        assertThat(plain.why()).isEqualTo("a java process whose main class is Sleeper");
        assertThat(plain.command()).isEqualTo(JAVA + " [flags] Sleeper 120");

        Identity jshell = judge("/usr/lib/jvm/temurin-25-jdk-amd64/bin/jshell");
        assertThat(jshell.kind()).isEqualTo(Kind.OTHER);
        assertThat(jshell.why()).as("a JVM, but not started by java").isEqualTo("its program is jshell, not java");
        assertThat(judge("/usr/bin/sleep", "120").why()).isEqualTo("its program is sleep, not java");
        assertThat(judge("less", "/usr/bin/shieldpool").kind()).as("not a program that execs it").isEqualTo(Kind.OTHER);
        assertThat(judge(JAVA, "-m", "jdk.jshell/jdk.internal.jshell.tool.JShellToolProvider").kind()).isEqualTo(Kind.OTHER);
    }

    @Test
    void whatTheCommandLineCannotSayIsWaitedFor() {
        assertThat(judge(JAVA, "@/tmp/argfile").kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(judge(JAVA, "-jar", "/unreadable/app.jar").kind()).as("a jar that cannot be read").isEqualTo(Kind.UNKNOWN);
        assertThat(judge(JAVA, "-m", "some.module").kind()).isEqualTo(Kind.UNKNOWN);
    }
}
