package io.shieldpool.jobs.postgresql;

import io.shieldpool.jobs.JobStoreException;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The client certificate's key (the URL's sslkey), decrypted with sslpassword where it is
 * encrypted, as libpq reads it: PKCS#8 ({@code BEGIN ENCRYPTED PRIVATE KEY}, what {@code openssl
 * pkcs8 -topk8} and {@code openssl genpkey -aes256} write) or OpenSSL's traditional form
 * ({@code Proc-Type: 4,ENCRYPTED} with a DEK-Info line). why here: the client's PEM reader takes
 * unencrypted keys only and said "Missing -----BEGIN PRIVATE KEY----- ... delimiter" for the others.
 */
final class ClientKey {

    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z ]+)-----\\R(.*?)-----END \\1-----", Pattern.DOTALL);
    /** why the IV loose (anything to the line's end): a damaged one is named as such, not as a missing line. */
    private static final Pattern DEK_INFO = Pattern.compile("(?m)^DEK-Info: *([A-Za-z0-9-]+) *(?:,([^\r\n]*))?$");
    private static final Pattern HEX = Pattern.compile("(?:[0-9A-Fa-f]{2})+");

    /** A traditional PEM's cipher (its DEK-Info name) as the JDK names it, with its key's and its block's (the IV's) length. */
    private record Cbc(String algorithm, int keyBytes, int ivBytes) {
    }

    /** The DEK-Info ciphers openssl writes (-aes128, -aes192, -aes256, -des3). */
    private static final Map<String, Cbc> TRADITIONAL_CIPHERS = Map.of("AES-128-CBC", new Cbc("AES", 16, 16),
            "AES-192-CBC", new Cbc("AES", 24, 16), "AES-256-CBC", new Cbc("AES", 32, 16), "DES-EDE3-CBC", new Cbc("DESede", 24, 8));

    private ClientKey() {
    }

    /**
     * The key in {@code file} as an unencrypted PEM the client reads; empty when the file holds
     * no encrypted key (the client reads it from the file itself, and names what is wrong with it).
     *
     * @throws JobStoreException UNUSABLE, one line naming the file, when the key is encrypted and
     *                           sslpassword is missing or wrong, or its cipher is one this JVM lacks
     */
    static Optional<Buffer> decrypted(String file, Optional<String> passphrase) {
        String text;
        try {
            // why Latin-1: it decodes any byte, so a stray one is the PEM parse's to report, not the read's
            text = Files.readString(Path.of(file), StandardCharsets.ISO_8859_1);
        } catch (IOException | java.nio.file.InvalidPathException e) {
            throw problem(file, "(expected: a readable PEM file; " + e.getClass().getSimpleName() + ")");
        }
        // the file's first key: a certificate may come before it (OpenSSL's reader, and so libpq, skips it too)
        Matcher pem = PEM.matcher(text);
        boolean found = false;
        while (!found && pem.find()) {
            found = pem.group(1).endsWith("PRIVATE KEY");
        }
        if (!found) {
            return Optional.empty();
        }
        String type = pem.group(1);
        String body = pem.group(2);
        boolean traditional = body.contains("Proc-Type: 4,ENCRYPTED");
        if (!type.equals("ENCRYPTED PRIVATE KEY") && !traditional) {
            return Optional.empty();
        }
        if (passphrase.isEmpty()) {
            throw problem(file, "is encrypted (expected: its passphrase in the URL's sslpassword, or a key without one)");
        }
        char[] secret = passphrase.get().toCharArray();
        try {
            return Optional.of(traditional ? traditional(file, type, body, passphrase.get())
                    : pkcs8(file, base64(file, body), secret));
        } finally {
            Arrays.fill(secret, '\0');
        }
    }

    /** PKCS#8's EncryptedPrivateKeyInfo: PBES2 (PBKDF2 with AES, openssl's default) or a PKCS#12 PBE scheme. */
    private static Buffer pkcs8(String file, byte[] der, char[] passphrase) {
        EncryptedPrivateKeyInfo info;
        try {
            info = new EncryptedPrivateKeyInfo(der);
        } catch (IOException e) {
            // why not "does not parse": the JDK refuses here the schemes it lacks (scrypt, ARIA), as a parameter parsing error
            throw unreadable(file, "is encrypted in a way this JVM does not read (" + e.getMessage() + ")");
        }
        String scheme = info.getAlgName();
        Cipher cipher;
        try {
            cipher = Cipher.getInstance(scheme);
            cipher.init(Cipher.DECRYPT_MODE, SecretKeyFactory.getInstance(scheme).generateSecret(new PBEKeySpec(passphrase)),
                    info.getAlgParameters());
        } catch (NoSuchAlgorithmException | javax.crypto.NoSuchPaddingException e) {
            throw unsupported(file, scheme);
        } catch (GeneralSecurityException e) {
            throw problem(file, "(expected: a PEM key; its encryption's parameters do not parse: " + e.getMessage() + ")");
        }
        try {
            return pem("PRIVATE KEY", info.getKeySpec(cipher).getEncoded());
        } catch (GeneralSecurityException e) {
            // why the guess: a wrong passphrase decrypts to bytes that are no key (InvalidKeySpecException)
            throw wrongPassphrase(file);
        }
    }

    /**
     * OpenSSL's traditional encrypted PEM: the DEK-Info cipher in CBC mode, its key made from the
     * passphrase and the IV's first 8 bytes by EVP_BytesToKey (MD5, one round), as OpenSSL does.
     */
    private static Buffer traditional(String file, String type, String body, String passphrase) {
        Matcher dek = DEK_INFO.matcher(body);
        if (!dek.find()) {
            throw problem(file, "(expected: a Proc-Type: 4,ENCRYPTED key with a DEK-Info line)");
        }
        String name = dek.group(1).toUpperCase(Locale.ROOT);
        Cbc cbc = TRADITIONAL_CIPHERS.get(name);
        if (cbc == null) {
            throw unsupported(file, name);
        }
        // why checked here: HexFormat threw an IllegalArgumentException (a stack trace) at an odd length or a
        // stray character, and an IV of the wrong length failed in Cipher.init as a cipher this JVM lacks
        String hex = dek.group(2) == null ? "" : dek.group(2).strip();
        if (!HEX.matcher(hex).matches() || hex.length() != 2 * cbc.ivBytes()) {
            throw problem(file, "has a damaged DEK-Info line (expected: " + name + ", then its IV in hex, " + cbc.ivBytes()
                    + " bytes (" + 2 * cbc.ivBytes() + " hex digits), as openssl writes it)");
        }
        byte[] iv = HexFormat.of().parseHex(hex);
        // why these two types only: the client's PEM reader takes PKCS#1 RSA and SEC1 EC keys, not DSA
        if (!type.equals("RSA PRIVATE KEY") && !type.equals("EC PRIVATE KEY")) {
            throw unsupported(file, name + " as a traditional " + type);
        }
        byte[] encrypted = base64(file, body.substring(body.indexOf("\n", dek.end()) + 1));
        byte[] key = bytesToKey(passphrase.getBytes(StandardCharsets.UTF_8), Arrays.copyOf(iv, 8), cbc.keyBytes());
        try {
            Cipher cipher = Cipher.getInstance(cbc.algorithm() + "/CBC/PKCS5Padding");
            cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, cbc.algorithm()), new IvParameterSpec(iv));
            byte[] der = cipher.doFinal(encrypted);
            if (!isDerSequence(der)) {
                throw wrongPassphrase(file);
            }
            return pem(type, der);
        } catch (BadPaddingException | javax.crypto.IllegalBlockSizeException e) {
            throw wrongPassphrase(file);
        } catch (GeneralSecurityException e) {
            throw unsupported(file, name);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** OpenSSL's EVP_BytesToKey with MD5 and one round: D_i = MD5(D_(i-1) || passphrase || salt). */
    private static byte[] bytesToKey(byte[] passphrase, byte[] salt, int length) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            byte[] key = new byte[length];
            byte[] block = new byte[0];
            for (int filled = 0; filled < length; filled += block.length) {
                md5.update(block);
                md5.update(passphrase);
                block = md5.digest(salt);
                System.arraycopy(block, 0, key, filled, Math.min(block.length, length - filled));
            }
            return key;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no MD5", e);
        }
    }

    /**
     * Whether {@code der} is one DER SEQUENCE filling it exactly. why: a wrong passphrase yields
     * a valid padding about once in 256 tries, and then bytes that are no key.
     */
    private static boolean isDerSequence(byte[] der) {
        if (der.length < 2 || der[0] != 0x30) {
            return false;
        }
        int first = der[1] & 0xff;
        if (first < 0x80) {
            return first + 2 == der.length;
        }
        int lengthBytes = first & 0x7f;
        if (lengthBytes == 0 || lengthBytes > 3 || der.length < 2 + lengthBytes) {
            return false;
        }
        int length = 0;
        for (int i = 0; i < lengthBytes; i++) {
            length = length << 8 | der[2 + i] & 0xff;
        }
        return 2 + lengthBytes + length == der.length;
    }

    private static byte[] base64(String file, String body) {
        try {
            return Base64.getMimeDecoder().decode(body.strip());
        } catch (IllegalArgumentException e) {
            throw problem(file, "(expected: a PEM key; its base64 does not decode)");
        }
    }

    private static Buffer pem(String type, byte[] der) {
        String base64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return Buffer.buffer("-----BEGIN " + type + "-----\n" + base64 + "\n-----END " + type + "-----\n");
    }

    private static JobStoreException wrongPassphrase(String file) {
        return problem(file, "cannot be decrypted with the URL's sslpassword (wrong sslpassword?)");
    }

    private static JobStoreException unsupported(String file, String scheme) {
        return unreadable(file, "is encrypted with " + scheme + ", which this JVM cannot decrypt");
    }

    private static JobStoreException unreadable(String file, String what) {
        return problem(file, what + " (expected: PKCS#8 with PBKDF2 as `openssl pkcs8 -topk8 -v2 aes-256-cbc -in " + file
                + " -out NEW.key` writes it, or traditional PEM with AES-*-CBC or DES-EDE3-CBC)");
    }

    /** why the prefix: the daemon's and the tools' error line names the key, as the validator's do. */
    private static JobStoreException problem(String file, String what) {
        return new JobStoreException(JobStoreException.Kind.UNUSABLE, "shieldpool.jobs.postgresql.url: sslkey " + file + " " + what);
    }
}
