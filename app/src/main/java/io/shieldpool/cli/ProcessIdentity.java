package io.shieldpool.cli;

import io.shieldpool.runtime.RuntimeDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * What runs under a pid that has no state file (yet), for {@code shieldpool reload --pid}: the
 * shieldpool daemon, still starting (wait for its file), something else (say so at once), or no
 * telling (wait, as before). Judged from {@code /proc/PID/cmdline}: the launcher ({@code
 * bin/shieldpool}, a bash script, behind {@code env} at times) execs {@code java [flags] -jar
 * shieldpool.jar [--config FILE]}, and the daemon's command line never holds a positional word,
 * where a CLI run names its command ({@code reload}, {@code jobs} ...).
 *
 * <p>why "no telling" waits: inside the unit's sandbox (ProtectProc=invisible) /proc hides the
 * daemon from its own ExecReload=, and a daemon still starting must not be turned away.
 */
final class ProcessIdentity {

    static final String MAIN_CLASS = Main.class.getName();

    /** What the pid is. */
    enum Kind {
        /** The shieldpool daemon, or its launcher about to exec it. */
        DAEMON,
        /** Something else: it will never write a state file. */
        OTHER,
        /** /proc could not say. */
        UNKNOWN
    }

    /**
     * @param kind     what it is
     * @param command  its command line, shortened for one line (JVM flags left out)
     * @param why      for OTHER, what it is instead, in words
     * @param stateDir for a DAEMON whose environment could be read, the directory it writes its
     *                 state file in
     */
    record Identity(Kind kind, String command, String why, Optional<Path> stateDir) {
        static final Identity UNKNOWN = new Identity(Kind.UNKNOWN, "", "", Optional.empty());
    }

    /** java's options that take their value as the next word. */
    private static final Set<String> JAVA_OPTIONS_WITH_VALUE = Set.of("-cp", "-classpath", "--class-path", "-p",
            "--module-path", "--upgrade-module-path", "--add-modules", "--enable-native-access", "--add-reads",
            "--add-exports", "--add-opens", "--limit-modules", "--patch-module", "--source");
    /** Programs that exec what they are given, as the launcher's path to java goes (env, bash). */
    private static final Set<String> WRAPPERS = Set.of("env", "bash", "sh", "dash", "setsid");
    private static final int MAX_COMMAND = 160;

    private final Map<Path, Optional<String>> mainClassOfJar = new HashMap<>();

    /** What {@code pid} runs now (a launcher becomes the JVM by exec: ask again while waiting). */
    Identity of(long pid) {
        Path proc = Path.of("/proc", Long.toString(pid));
        List<String> argv;
        try {
            argv = words(Files.readAllBytes(proc.resolve("cmdline")));
        } catch (IOException | SecurityException e) {
            return Identity.UNKNOWN;
        }
        if (argv.isEmpty()) {
            return Identity.UNKNOWN; // a zombie, or a kernel thread
        }
        Optional<Path> cwd = readLink(proc.resolve("cwd"));
        Identity identity = judge(argv, jar -> jar.isAbsolute() ? mainClassOf(jar)
                : cwd.flatMap(dir -> mainClassOf(dir.resolve(jar))));
        if (identity.kind() != Kind.DAEMON || !isJava(argv.getFirst())) {
            return identity;
        }
        return new Identity(identity.kind(), identity.command(), identity.why(), stateDirOf(pid, proc, argv, cwd));
    }

    /**
     * The judgement from a command line alone; {@code mainClassOfJar} reads a jar's Main-Class
     * (empty: the jar could not be read).
     */
    static Identity judge(List<String> argv, Function<Path, Optional<String>> mainClassOfJar) {
        String program = argv.getFirst();
        if (!isJava(program)) {
            return judgeWrapper(argv);
        }
        List<String> words = argv.subList(1, argv.size());
        boolean flagsLeftOut = false;
        for (int i = 0; i < words.size(); i++) {
            String word = words.get(i);
            if (word.startsWith("@")) {
                return Identity.UNKNOWN; // an argument file: what it holds is not on the command line
            }
            if (word.equals("-jar") && i + 1 < words.size()) {
                String jar = words.get(i + 1);
                List<String> args = words.subList(i + 2, words.size());
                String command = shorten(program, flagsLeftOut, "-jar " + jar, args);
                Optional<String> main = mainClassOfJar.apply(Path.of(jar));
                if (main.isEmpty()) {
                    return Identity.UNKNOWN;
                }
                if (main.get().isEmpty()) {
                    return new Identity(Kind.OTHER, command, "a java process running " + jar + ", which names no main class",
                            Optional.empty());
                }
                return judgeMain(main.get(), "a java process running " + jar + " (main class " + main.get() + ")",
                        command, args);
            }
            if ((word.equals("-m") || word.equals("--module")) && i + 1 < words.size()) {
                String module = words.get(i + 1);
                List<String> args = words.subList(i + 2, words.size());
                String main = module.contains("/") ? module.substring(module.indexOf('/') + 1) : "";
                if (main.isEmpty()) {
                    return Identity.UNKNOWN; // the module's own main class: not on the command line
                }
                return judgeMain(main, "a java process running module " + module,
                        shorten(program, flagsLeftOut, "-m " + module, args), args);
            }
            if (JAVA_OPTIONS_WITH_VALUE.contains(word)) {
                i++;
                flagsLeftOut = true;
            } else if (word.startsWith("-")) {
                flagsLeftOut = true;
            } else {
                List<String> args = words.subList(i + 1, words.size());
                return judgeMain(word, "a java process whose main class is " + word,
                        shorten(program, flagsLeftOut, word, args), args);
            }
        }
        return new Identity(Kind.OTHER, shorten(program, flagsLeftOut, "", List.of()), "a java process with no program",
                Optional.empty());
    }

    private static Identity judgeMain(String main, String other, String command, List<String> args) {
        if (!main.equals(MAIN_CLASS)) {
            return new Identity(Kind.OTHER, command, other, Optional.empty());
        }
        return judgeShieldpoolArgs(command, args);
    }

    /** The launcher, or env in front of it, before the exec that makes it the JVM. */
    private static Identity judgeWrapper(List<String> argv) {
        String command = shorten(String.join(" ", argv));
        if (WRAPPERS.contains(fileName(argv.getFirst()))) {
            for (int i = 1; i < argv.size(); i++) {
                if (fileName(argv.get(i)).equals("shieldpool")) {
                    return judgeShieldpoolArgs(command, argv.subList(i + 1, argv.size()));
                }
            }
        }
        return new Identity(Kind.OTHER, command, "its program is " + fileName(argv.getFirst()) + ", not java", Optional.empty());
    }

    /** shieldpool's own arguments: the daemon takes options only ({@code -c FILE}); a command is a word. */
    private static Identity judgeShieldpoolArgs(String command, List<String> args) {
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.equals("-c") || arg.equals("--config")) {
                i++;
            } else if (!arg.startsWith("-")) {
                return new Identity(Kind.OTHER, command, "the shieldpool command '" + arg + "', not the daemon",
                        Optional.empty());
            }
        }
        return new Identity(Kind.DAEMON, command, "", Optional.empty());
    }

    /**
     * Where this daemon writes its state file, as it works it out itself ({@link RuntimeDir}): from
     * its environment, its java.io.tmpdir and its user. Empty when its environment cannot be read
     * (another user's process, unless we are root).
     */
    private static Optional<Path> stateDirOf(long pid, Path proc, List<String> argv, Optional<Path> cwd) {
        Map<String, String> env = new HashMap<>();
        try {
            for (String entry : words(Files.readAllBytes(proc.resolve("environ")))) {
                int eq = entry.indexOf('=');
                if (eq > 0) {
                    env.put(entry.substring(0, eq), entry.substring(eq + 1));
                }
            }
        } catch (IOException | SecurityException e) {
            return Optional.empty();
        }
        Optional<String> user = ProcessHandle.of(pid).flatMap(p -> p.info().user());
        if (user.isEmpty()) {
            return Optional.empty();
        }
        // why this order: java reads JAVA_TOOL_OPTIONS, then JDK_JAVA_OPTIONS, then its command line; the last -D wins.
        List<String> options = new ArrayList<>();
        options.addAll(Arrays.asList(env.getOrDefault("JAVA_TOOL_OPTIONS", "").split("\\s+")));
        options.addAll(Arrays.asList(env.getOrDefault("JDK_JAVA_OPTIONS", "").split("\\s+")));
        options.addAll(argv);
        String tmpdir = "/tmp"; // the JDK's default on Linux
        for (String option : options) {
            if (option.startsWith("-Djava.io.tmpdir=")) {
                tmpdir = option.substring("-Djava.io.tmpdir=".length());
            }
        }
        Path dir = RuntimeDir.forDaemon(env, Path.of(tmpdir), user.get());
        if (!dir.isAbsolute()) {
            if (cwd.isEmpty()) {
                return Optional.empty();
            }
            dir = cwd.get().resolve(dir);
        }
        return Optional.of(dir.normalize());
    }

    private Optional<String> mainClassOf(Path jar) {
        return mainClassOfJar.computeIfAbsent(jar, file -> {
            try (JarFile opened = new JarFile(file.toFile(), false)) {
                Manifest manifest = opened.getManifest();
                return Optional.ofNullable(manifest == null ? null : manifest.getMainAttributes().getValue("Main-Class"))
                        .map(String::strip).or(() -> Optional.of(""));
            } catch (IOException | SecurityException e) {
                return Optional.empty();
            }
        });
    }

    private static Optional<Path> readLink(Path link) {
        try {
            return Optional.of(Files.readSymbolicLink(link));
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return Optional.empty();
        }
    }

    private static boolean isJava(String program) {
        return fileName(program).equals("java");
    }

    private static String fileName(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? path : path.substring(slash + 1);
    }

    private static List<String> words(byte[] nulSeparated) {
        String text = new String(nulSeparated, StandardCharsets.UTF_8);
        // why not dropping empty words: an empty argument ("") is one, and counts for what follows it
        return text.isEmpty() ? List.of() : List.of(text.split("\0"));
    }

    private static String shorten(String program, boolean flagsLeftOut, String main, List<String> args) {
        StringBuilder command = new StringBuilder(program);
        if (flagsLeftOut) {
            command.append(" [flags]");
        }
        if (!main.isEmpty()) {
            command.append(' ').append(main);
        }
        for (String arg : args) {
            command.append(' ').append(arg);
        }
        return shorten(command.toString());
    }

    private static String shorten(String command) {
        return command.length() <= MAX_COMMAND ? command : command.substring(0, MAX_COMMAND - 3) + "...";
    }
}
