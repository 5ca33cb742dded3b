package org.l2l.data;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reader for the IDX files in which MNIST (and Fashion-MNIST) are distributed, plain or gzipped.
 *
 * <p>An IDX file is a big-endian header followed by raw data. Only the two layouts MNIST uses are
 * supported: unsigned-byte images ({@value #IMAGE_MAGIC_HEX}: count, rows, cols) and unsigned-byte
 * labels ({@value #LABEL_MAGIC_HEX}: count). Every read checks the magic number and that the
 * declared size equals the actual data length exactly, so a truncated download or a file with
 * trailing garbage fails here, with the file name, rather than as a wrong result later.
 *
 * <p>Gzip is detected from the content (magic bytes {@code 1f 8b}), not from the name, because
 * fetched files are checked under temporary names and users rename files freely.
 */
public final class Idx {

    /** Magic number of an unsigned-byte IDX file with three dimensions (images). */
    public static final int IMAGE_MAGIC = 0x00000803;
    /** Magic number of an unsigned-byte IDX file with one dimension (labels). */
    public static final int LABEL_MAGIC = 0x00000801;
    /** {@link #IMAGE_MAGIC} as written in messages and javadoc. */
    public static final String IMAGE_MAGIC_HEX = "0x00000803";
    /** {@link #LABEL_MAGIC} as written in messages and javadoc. */
    public static final String LABEL_MAGIC_HEX = "0x00000801";
    /** Number of distinct labels when labels are digits (0..9). */
    public static final int NUM_DIGITS = 10;

    /** The magic number is the first 4-byte big-endian integer of every IDX file. */
    private static final int MAGIC_BYTES = 4;
    /** Header of an image file: magic, count, rows, cols, each a 4-byte big-endian integer. */
    private static final int IMAGE_HEADER_BYTES = 16;
    /** Header of a label file: magic, count. */
    private static final int LABEL_HEADER_BYTES = 8;
    /** The two bytes every gzip stream starts with (RFC 1952). */
    private static final int GZIP_MAGIC_0 = 0x1f;
    private static final int GZIP_MAGIC_1 = 0x8b;
    /** Buffer for inflating; large enough that a 47 MB file inflates in few calls. */
    private static final int INFLATE_BUFFER_BYTES = 1 << 16;
    private static final int UNSIGNED_BYTE_MASK = 0xFF;

    private Idx() {
    }

    /**
     * The contents of an IDX image file.
     *
     * @param count  number of images
     * @param rows   rows per image
     * @param cols   columns per image
     * @param pixels {@code count * rows * cols} unsigned bytes (read with {@code & 0xFF}),
     *               image-major then row-major; not copied
     */
    public record Images(int count, int rows, int cols, byte[] pixels) {
    }

    /**
     * Reads an IDX image file ({@value #IMAGE_MAGIC_HEX}), plain or gzipped.
     *
     * @param file the file to read
     * @return the images
     * @throws DataException if the file is missing, unreadable, has the wrong magic number, or
     *                       its length differs from what the header declares
     */
    public static Images readImages(Path file) {
        return parseImages(file, readContent(file));
    }

    /**
     * Parses the content of an IDX image file, as {@link #readContent} returns it.
     *
     * @param file the file the content came from, named in messages
     * @param data the uncompressed content
     */
    static Images parseImages(Path file, byte[] data) {
        ByteBuffer header = ByteBuffer.wrap(data).order(ByteOrder.BIG_ENDIAN);
        checkMagic(file, data, IMAGE_MAGIC, IMAGE_HEADER_BYTES, "an IDX image file");
        requireHeader(file, data, IMAGE_HEADER_BYTES, "an IDX image file");
        header.getInt(); // the magic number, checked above
        int count = header.getInt();
        int rows = header.getInt();
        int cols = header.getInt();
        if (count < 0 || rows <= 0 || cols <= 0) {
            throw new DataException(file + ": invalid header, " + count + " images of "
                    + rows + "x" + cols);
        }
        long expected = IMAGE_HEADER_BYTES + (long) count * rows * cols;
        checkLength(file, data.length, expected,
                count + " images of " + rows + "x" + cols);
        byte[] pixels = new byte[data.length - IMAGE_HEADER_BYTES];
        System.arraycopy(data, IMAGE_HEADER_BYTES, pixels, 0, pixels.length);
        return new Images(count, rows, cols, pixels);
    }

    /**
     * Reads an IDX label file ({@value #LABEL_MAGIC_HEX}), plain or gzipped.
     *
     * @param file         the file to read
     * @param digitsOnly   whether every label must lie in 0..{@value #NUM_DIGITS}-1
     * @return the labels, each an unsigned byte value
     * @throws DataException if the file is missing, unreadable, has the wrong magic number, its
     *                       length differs from what the header declares, or (when asked) a label
     *                       is not a digit
     */
    public static int[] readLabels(Path file, boolean digitsOnly) {
        return parseLabels(file, readContent(file), digitsOnly);
    }

    /**
     * Parses the content of an IDX label file, as {@link #readContent} returns it.
     *
     * @param file the file the content came from, named in messages
     * @param data the uncompressed content
     */
    static int[] parseLabels(Path file, byte[] data, boolean digitsOnly) {
        ByteBuffer header = ByteBuffer.wrap(data).order(ByteOrder.BIG_ENDIAN);
        checkMagic(file, data, LABEL_MAGIC, LABEL_HEADER_BYTES, "an IDX label file");
        requireHeader(file, data, LABEL_HEADER_BYTES, "an IDX label file");
        header.getInt(); // the magic number, checked above
        int count = header.getInt();
        if (count < 0) {
            throw new DataException(file + ": invalid header, " + count + " labels");
        }
        checkLength(file, data.length, LABEL_HEADER_BYTES + (long) count, count + " labels");
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            int label = data[LABEL_HEADER_BYTES + i] & UNSIGNED_BYTE_MASK;
            if (digitsOnly && label >= NUM_DIGITS) {
                throw new DataException(file + ": label " + label + " at index " + i
                        + " is not a digit 0.." + (NUM_DIGITS - 1));
            }
            labels[i] = label;
        }
        return labels;
    }

    /**
     * Returns the bytes of {@code file}, inflated if they start with the gzip magic bytes.
     * Whole-file reads keep loading 60,000 images to one allocation and one pass.
     */
    static byte[] readContent(Path file) {
        byte[] raw;
        try {
            raw = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": no such file", e);
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (!isGzip(raw)) {
            return raw;
        }
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw),
                INFLATE_BUFFER_BYTES)) {
            return in.readAllBytes();
        } catch (IOException e) {
            // A cut-off download usually ends here: "Unexpected end of ZLIB input stream".
            throw new DataException(file + ": truncated or corrupt gzip data (" + e.getMessage()
                    + ")", e);
        }
    }

    private static boolean isGzip(byte[] data) {
        return data.length >= 2
                && (data[0] & UNSIGNED_BYTE_MASK) == GZIP_MAGIC_0
                && (data[1] & UNSIGNED_BYTE_MASK) == GZIP_MAGIC_1;
    }

    private static void requireHeader(Path file, byte[] data, int headerBytes, String kind) {
        if (data.length < headerBytes) {
            throw new DataException(file + ": truncated, " + data.length + " bytes but "
                    + kind + " header alone needs " + headerBytes);
        }
    }

    /**
     * Checked before the header length, so that a file of the other kind (say, labels passed as
     * images) is reported as such rather than as truncated.
     */
    private static void checkMagic(Path file, byte[] data, int expected, int headerBytes,
            String kind) {
        if (data.length < MAGIC_BYTES) {
            requireHeader(file, data, headerBytes, kind);
        }
        int actual = ByteBuffer.wrap(data).order(ByteOrder.BIG_ENDIAN).getInt();
        if (actual != expected) {
            throw new DataException(String.format(
                    "%s: wrong magic number 0x%08x, expected 0x%08x (%s)",
                    file, actual, expected, kind));
        }
    }

    private static void checkLength(Path file, long actual, long expected, String declared) {
        if (actual < expected) {
            throw new DataException(file + ": truncated, header declares " + declared + " ("
                    + expected + " bytes) but the data has " + actual + " bytes");
        }
        if (actual > expected) {
            throw new DataException(file + ": " + (actual - expected)
                    + " bytes of trailing data after " + declared + " (" + expected
                    + " bytes expected, " + actual + " found)");
        }
    }
}
