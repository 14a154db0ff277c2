package io.shieldpool.realsystemd;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The minimal Debian root file systems the containers boot, built by {@code build-rootfs.sh} with
 * debootstrap from the machine's own Debian mirror, once per machine: cached under {@link #CACHE},
 * keyed by the suite and the script's content (a changed package list builds anew). A lock file
 * keeps two builds running at once from building the same one twice. Containers never write to
 * these: each boots an overlay of its own.
 */
final class Rootfs {

    static final Path CACHE = Path.of(System.getProperty("shieldpool.rootfs.cache", "/var/cache/shieldpool-test-rootfs"));
    static final Path SCRIPT = Path.of(System.getProperty("shieldpool.rootfs.script", "src/test/systemd/build-rootfs.sh"));

    private Rootfs() {
    }

    /** The root file system for {@code suite}, built now if this machine has none yet. */
    static Path forSuite(String suite) throws IOException {
        String key = suite + "-" + scriptHash();
        Path dir = CACHE.resolve(key);
        if (Files.isDirectory(dir)) {
            return dir;
        }
        Files.createDirectories(CACHE);
        try (FileChannel lockFile = FileChannel.open(CACHE.resolve(key + ".lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock lock = lockFile.lock()) {
            if (Files.isDirectory(dir)) {
                return dir; // another run built it while we waited
            }
            long began = System.nanoTime();
            String mirror = mirror();
            System.err.println("real systemd: building the " + suite + " root file system in " + dir + " from " + mirror
                    + " (once per machine)");
            Exec build = Exec.run(List.of("bash", SCRIPT.toAbsolutePath().toString(), suite, dir.toString(), mirror), null,
                    Duration.ofMinutes(8));
            if (build.exitCode() != 0) {
                throw new AssertionError("debootstrap of " + suite + " from " + mirror + " failed: " + build);
            }
            System.err.printf("real systemd: %s root file system built in %.0f s%n", suite, (System.nanoTime() - began) / 1e9);
            return dir;
        }
    }

    /** The first Debian mirror of the machine's apt sources (deb822 or one-line format). */
    static String mirror() throws IOException {
        Path deb822 = Path.of("/etc/apt/sources.list.d/debian.sources");
        if (Files.isReadable(deb822)) {
            for (String stanza : Files.readString(deb822).split("\\n\\s*\\n")) {
                Matcher uri = Pattern.compile("(?m)^URIs:\\s*(\\S+)").matcher(stanza);
                if (uri.find() && !stanza.contains("debian-security") && !uri.group(1).contains("security")) {
                    return uri.group(1);
                }
            }
        }
        Path oneLine = Path.of("/etc/apt/sources.list");
        if (Files.isReadable(oneLine)) {
            Matcher deb = Pattern.compile("(?m)^deb\\s+(?:\\[[^]]*]\\s+)?(\\S+)\\s+\\S+").matcher(Files.readString(oneLine));
            while (deb.find()) {
                if (!deb.group(1).contains("security")) {
                    return deb.group(1);
                }
            }
        }
        return "http://deb.debian.org/debian";
    }

    private static String scriptHash() throws IOException {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(SCRIPT));
            return HexFormat.of().formatHex(digest, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
