package org.l2l.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/** Builders for small IDX files and tar archives used by the data tests. */
final class TestFiles {

    static final int ROWS = 28;
    static final int COLS = 28;
    private static final int BLOCK = 512;

    private TestFiles() {
    }

    /** The pixel byte the generated images hold at (image, row, col); covers 0 and 255. */
    static int pixel(int image, int row, int col) {
        return (image * 37 + row * 11 + col * 5) % 256;
    }

    /** An IDX image file of {@code count} images of {@code rows x cols} with {@link #pixel}. */
    static byte[] images(int count, int rows, int cols) {
        ByteBuffer b = ByteBuffer.allocate(16 + count * rows * cols);
        b.putInt(Idx.IMAGE_MAGIC).putInt(count).putInt(rows).putInt(cols);
        for (int i = 0; i < count; i++) {
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    b.put((byte) pixel(i, r, c));
                }
            }
        }
        return b.array();
    }

    /** An IDX label file holding {@code labels}. */
    static byte[] labels(int... labels) {
        ByteBuffer b = ByteBuffer.allocate(8 + labels.length);
        b.putInt(Idx.LABEL_MAGIC).putInt(labels.length);
        for (int label : labels) {
            b.put((byte) label);
        }
        return b.array();
    }

    /** A checksum table pinning {@code files} (uncompressed content by base name). */
    static MnistChecksums checksums(Map<String, byte[]> files) {
        Map<String, String> sums = new LinkedHashMap<>();
        files.forEach((name, data) -> sums.put(name, MnistChecksums.sha256(data)));
        return new MnistChecksums(sums);
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
            out.write(data);
        }
        return bytes.toByteArray();
    }

    /**
     * A ustar archive of regular files, ended by two zero blocks. With {@code splitPrefix}, names
     * containing '/' are stored with the directory part in the ustar prefix field.
     */
    static byte[] tar(Map<String, byte[]> entries, boolean splitPrefix) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
            String name = e.getKey();
            String prefix = "";
            int slash = name.lastIndexOf('/');
            if (splitPrefix && slash > 0) {
                prefix = name.substring(0, slash);
                name = name.substring(slash + 1);
            }
            writeEntry(out, name, prefix, '0', e.getValue());
        }
        out.writeBytes(new byte[2 * BLOCK]);
        return out.toByteArray();
    }

    /** A ustar archive with one regular file whose real name is in a pax 'x' header. */
    static byte[] tarWithPaxName(String longName, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String record = " path=" + longName + "\n";
        // The length prefix counts itself; find the fixed point.
        int length = record.length();
        while (String.valueOf(length).length() + record.length() != length) {
            length = String.valueOf(length).length() + record.length();
        }
        byte[] pax = (length + record).getBytes(StandardCharsets.UTF_8);
        writeEntry(out, "PaxHeader", "", 'x', pax);
        writeEntry(out, "truncated-name", "", '0', data);
        out.writeBytes(new byte[2 * BLOCK]);
        return out.toByteArray();
    }

    /**
     * An archive of regular files in GNU tar's own layout (magic "ustar" and two spaces), as
     * older archives such as CIFAR-10's are: no prefix field, and here access and change times
     * set where POSIX has the prefix.
     */
    static byte[] gnuTar(Map<String, byte[]> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
            byte[] data = e.getValue();
            byte[] h = new byte[BLOCK];
            put(h, 0, e.getKey());
            put(h, 100, "0000644");
            put(h, 108, "0000000");
            put(h, 116, "0000000");
            put(h, 124, String.format("%011o", data.length));
            put(h, 136, "11145676425");
            h[156] = '0';
            put(h, 257, "ustar  ");
            put(h, 345, "11145676425"); // atime
            put(h, 357, "11145676425"); // ctime
            checksum(h);
            out.writeBytes(h);
            out.writeBytes(data);
            out.writeBytes(new byte[(BLOCK - data.length % BLOCK) % BLOCK]);
        }
        out.writeBytes(new byte[2 * BLOCK]);
        return out.toByteArray();
    }

    static void writeEntry(ByteArrayOutputStream out, String name, String prefix, char type,
            byte[] data) {
        byte[] h = new byte[BLOCK];
        put(h, 0, name);
        put(h, 100, "0000644");
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, String.format("%011o", data.length));
        put(h, 136, "00000000000");
        h[156] = (byte) type;
        put(h, 257, "ustar");
        put(h, 263, "00");
        put(h, 345, prefix);
        checksum(h);
        out.writeBytes(h);
        out.writeBytes(data);
        out.writeBytes(new byte[(BLOCK - data.length % BLOCK) % BLOCK]);
    }

    private static void checksum(byte[] h) {
        Arrays.fill(h, 148, 156, (byte) ' ');
        int sum = 0;
        for (byte b : h) {
            sum += b & 0xFF;
        }
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        h[155] = ' ';
    }

    private static void put(byte[] h, int offset, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, offset, b.length);
    }
}
