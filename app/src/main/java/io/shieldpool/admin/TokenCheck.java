package io.shieldpool.admin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Optional;

/**
 * Checks the admin token in an {@code Authorization} header: {@code Bearer <token>} (Prometheus,
 * curl), or {@code Basic} with the token as the password and any user name (what a browser sends
 * after its log-in prompt, so the status page needs no code of its own for it).
 *
 * <p>Both sides are hashed to SHA-256 first and compared with {@link MessageDigest#isEqual}, so the
 * time taken depends neither on where the first wrong character is nor on the token's length.
 */
final class TokenCheck {

    private final byte[] expectedDigest;

    TokenCheck(String token) {
        this.expectedDigest = sha256(token);
    }

    /**
     * @param authorization the request's Authorization header, or null
     * @return empty if the token matches, else why the request is refused (for the log; never the
     *         presented value)
     */
    Optional<String> refusal(String authorization) {
        if (authorization == null || authorization.isBlank()) {
            return Optional.of("no token");
        }
        String presented;
        if (hasScheme(authorization, "Bearer")) {
            presented = authorization.substring("Bearer".length()).trim();
        } else if (hasScheme(authorization, "Basic")) {
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(authorization.substring("Basic".length()).trim()),
                        StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return Optional.of("malformed Basic credentials");
            }
            int colon = decoded.indexOf(':');
            presented = colon < 0 ? decoded : decoded.substring(colon + 1);
        } else {
            return Optional.of("unsupported authorization scheme");
        }
        return MessageDigest.isEqual(expectedDigest, sha256(presented)) ? Optional.empty() : Optional.of("wrong token");
    }

    private static boolean hasScheme(String header, String scheme) {
        return header.length() > scheme.length() && header.regionMatches(true, 0, scheme, 0, scheme.length())
                && header.charAt(scheme.length()) == ' ';
    }

    private static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
