package org.l2l.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;

/**
 * Minimal reader that extracts chosen regular files from a tar archive, gzipped or not.
 *
 * <p>Enough for npm package tarballs (ustar written by node-tar) without adding a dependency:
 * 512-byte headers with checksum, octal or base-256 sizes, the ustar {@code prefix} field, GNU
 * long names ({@code L}) and pax {@code path}/{@code size} records ({@code x}); also the GNU
 * layout of older archives (CIFAR-10's), whose headers have no prefix field. Only entries the
 * caller names are written, each to the path the caller chose, so entry names never become file
 * system paths (no path traversal).
 */
public final class TarGz {

    /** Tar block size; headers and padded data are multiples of it. */
    static final int BLOCK = 512;

    private static final int NAME_OFFSET = 0;
    private static final int NAME_LENGTH = 100;
    private static final int SIZE_OFFSET = 124;
    private static final int SIZE_LENGTH = 12;
    private static final int CHECKSUM_OFFSET = 148;
    private static final int CHECKSUM_LENGTH = 8;
    private static final int TYPE_OFFSET = 156;
    private static final int MAGIC_OFFSET = 257;
    private static final int PREFIX_OFFSET = 345;
    private static final int PREFIX_LENGTH = 155;
    /**
     * "ustar" and a NUL at {@link #MAGIC_OFFSET} mark the POSIX layout that has a prefix field.
     * GNU tar's own layout ("ustar" and two spaces, as in older archives such as CIFAR-10's) keeps
     * other fields (access and change times) where POSIX has the prefix.
     */
    private static final byte[] USTAR_MAGIC = "ustar\0".getBytes(StandardCharsets.US_ASCII);
    /** High bit of the first size byte marks GNU base-256 encoding (files of 8 GiB or more). */
    private static final int BASE256_FLAG = 0x80;
    private static final int BASE256_VALUE_MASK = 0x7F;
    private static final int OCTAL_RADIX = 8;
    private static final int BITS_PER_BYTE = 8;
    private static final int UNSIGNED_BYTE_MASK = 0xFF;

    private static final byte TYPE_REGULAR = '0';
    /** Pre-POSIX archives mark regular files with NUL. */
    private static final byte TYPE_REGULAR_OLD = 0;
    private static final byte TYPE_CONTIGUOUS = '7';
    private static final byte TYPE_GNU_LONG_NAME = 'L';
    private static final byte TYPE_PAX_HEADER = 'x';

    private static final int GZIP_MAGIC_0 = 0x1f;
    private static final int GZIP_MAGIC_1 = 0x8b;
    private static final int STREAM_BUFFER_BYTES = 1 << 16;

    private TarGz() {
    }

    /**
     * Extracts the named entries of a tar or tar.gz archive (gzip detected from the content).
     * Reading stops at the end-of-archive marker; an archive that ends early is an error.
     *
     * @param archive the archive file
     * @param targets entry name (e.g. {@code package/data/t10k-labels-idx1-ubyte}) to the file
     *                it is written to; existing files are overwritten
     * @return the entry names that were found and written (a subset of {@code targets} keys)
     * @throws DataException if the archive is unreadable, truncated or has a corrupt header
     */
    public static Set<String> extract(Path archive, Map<String, Path> targets) {
        try (InputStream in = open(archive)) {
            return extract(in, archive.toString(), targets);
        } catch (EOFException e) {
            String detail = e.getMessage() != null ? e.getMessage() : "unexpected end of data";
            throw new DataException(archive + ": truncated archive (" + detail + ")", e);
        } catch (IOException e) {
            throw new DataException(archive + ": cannot read archive (" + e.getMessage() + ")",
                    e);
        }
    }

    private static InputStream open(Path archive) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(archive),
                STREAM_BUFFER_BYTES);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        if (b0 == GZIP_MAGIC_0 && b1 == GZIP_MAGIC_1) {
            return new GZIPInputStream(in, STREAM_BUFFER_BYTES);
        }
        return in;
    }

    private static Set<String> extract(InputStream in, String source, Map<String, Path> targets)
            throws IOException {
        Set<String> written = new HashSet<>();
        byte[] header = new byte[BLOCK];
        long offset = 0;
        // Set by a GNU long-name or pax header; applies to the next entry only.
        String pendingName = null;
        long pendingSize = -1;
        while (true) {
            readBlock(in, header);
            if (isZero(header)) {
                return written;
            }
            verifyChecksum(header, source, offset);
            byte type = header[TYPE_OFFSET];
            long size = parseSize(header, source, offset);
            offset += BLOCK;
            if (type == TYPE_GNU_LONG_NAME) {
                pendingName = trimNul(new String(readData(in, size, source, offset),
                        StandardCharsets.UTF_8));
            } else if (type == TYPE_PAX_HEADER) {
                String pax = new String(readData(in, size, source, offset),
                        StandardCharsets.UTF_8);
                String path = paxValue(pax, "path");
                if (path != null) {
                    pendingName = path;
                }
                String paxSize = paxValue(pax, "size");
                if (paxSize != null) {
                    pendingSize = Long.parseLong(paxSize);
                }
            } else {
                String name = pendingName != null ? pendingName : headerName(header);
                if (pendingSize >= 0) {
                    size = pendingSize;
                }
                pendingName = null;
                pendingSize = -1;
                boolean regular = type == TYPE_REGULAR || type == TYPE_REGULAR_OLD
                        || type == TYPE_CONTIGUOUS;
                Path target = regular ? targets.get(name) : null;
                if (target != null) {
                    try (OutputStream out = Files.newOutputStream(target)) {
                        copy(in, out, size);
                    }
                    written.add(name);
                } else {
                    in.skipNBytes(size);
                }
                in.skipNBytes(padding(size));
            }
            offset += size + padding(size);
        }
    }

    private static void readBlock(InputStream in, byte[] block) throws IOException {
        if (in.readNBytes(block, 0, BLOCK) != BLOCK) {
            // A well-formed archive ends with zero blocks, never mid-header or without a marker.
            throw new EOFException("archive ends without end-of-archive marker");
        }
    }

    private static byte[] readData(InputStream in, long size, String source, long offset)
            throws IOException {
        if (size > Integer.MAX_VALUE - BLOCK) {
            throw new DataException(source + ": extended header of " + size
                    + " bytes at offset " + offset + " is implausibly large");
        }
        byte[] data = in.readNBytes((int) size);
        if (data.length != size) {
            throw new EOFException("entry data at offset " + offset + " cut short");
        }
        in.skipNBytes(padding(size));
        return data;
    }

    private static void copy(InputStream in, OutputStream out, long size) throws IOException {
        byte[] buffer = new byte[STREAM_BUFFER_BYTES];
        long remaining = size;
        while (remaining > 0) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, remaining));
            if (n < 0) {
                throw new EOFException("entry data cut short, " + remaining + " bytes missing");
            }
            out.write(buffer, 0, n);
            remaining -= n;
        }
    }

    private static long padding(long size) {
        return (BLOCK - size % BLOCK) % BLOCK;
    }

    private static boolean isZero(byte[] block) {
        for (byte b : block) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /** The checksum catches a corrupt or misaligned archive before sizes are trusted. */
    private static void verifyChecksum(byte[] header, String source, long offset) {
        long stored = parseOctal(header, CHECKSUM_OFFSET, CHECKSUM_LENGTH, source, offset);
        long sum = 0;
        for (int i = 0; i < BLOCK; i++) {
            boolean inChecksumField = i >= CHECKSUM_OFFSET
                    && i < CHECKSUM_OFFSET + CHECKSUM_LENGTH;
            // The checksum is computed with its own field taken as spaces.
            sum += inChecksumField ? ' ' : header[i] & UNSIGNED_BYTE_MASK;
        }
        if (sum != stored) {
            throw new DataException(source + ": corrupt tar header at offset " + offset
                    + " (checksum " + stored + ", computed " + sum + ")");
        }
    }

    private static long parseSize(byte[] header, String source, long offset) {
        if ((header[SIZE_OFFSET] & BASE256_FLAG) != 0) {
            long value = header[SIZE_OFFSET] & BASE256_VALUE_MASK;
            for (int i = 1; i < SIZE_LENGTH; i++) {
                value = (value << BITS_PER_BYTE) | (header[SIZE_OFFSET + i] & UNSIGNED_BYTE_MASK);
            }
            return value;
        }
        return parseOctal(header, SIZE_OFFSET, SIZE_LENGTH, source, offset);
    }

    /** Octal fields are ASCII digits padded with spaces or NULs on either side. */
    private static long parseOctal(byte[] header, int start, int length, String source,
            long offset) {
        long value = 0;
        boolean digits = false;
        for (int i = start; i < start + length; i++) {
            byte b = header[i];
            if (b >= '0' && b <= '7') {
                value = value * OCTAL_RADIX + (b - '0');
                digits = true;
            } else if (b == ' ' || b == 0) {
                if (digits) {
                    break;
                }
            } else {
                throw new DataException(source + ": corrupt tar header at offset " + offset
                        + " (non-octal byte in numeric field at " + i + ")");
            }
        }
        return value;
    }

    private static String headerName(byte[] header) {
        String name = field(header, NAME_OFFSET, NAME_LENGTH);
        if (startsWith(header, MAGIC_OFFSET, USTAR_MAGIC)) {
            String prefix = field(header, PREFIX_OFFSET, PREFIX_LENGTH);
            if (!prefix.isEmpty()) {
                return prefix + "/" + name;
            }
        }
        return name;
    }

    private static String field(byte[] header, int start, int length) {
        int end = start;
        while (end < start + length && header[end] != 0) {
            end++;
        }
        return new String(header, start, end - start, StandardCharsets.UTF_8);
    }

    private static boolean startsWith(byte[] header, int start, byte[] expected) {
        for (int i = 0; i < expected.length; i++) {
            if (header[start + i] != expected[i]) {
                return false;
            }
        }
        return true;
    }

    private static String trimNul(String s) {
        int end = s.indexOf('\0');
        return end < 0 ? s : s.substring(0, end);
    }

    /** Pax records are "LENGTH KEY=VALUE\n"; values may contain spaces but not newlines here. */
    private static String paxValue(String pax, String key) {
        for (String record : pax.split("\n")) {
            int space = record.indexOf(' ');
            int equals = record.indexOf('=');
            if (space >= 0 && equals > space
                    && record.substring(space + 1, equals).equals(key)) {
                return record.substring(equals + 1);
            }
        }
        return null;
    }
}
