package org.l2l.io.tensorboard;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * TFRecord framing, the container format of TensorBoard event files.
 *
 * <p>Each record is: length as uint64 little-endian, masked CRC32C of those 8 bytes (uint32 LE),
 * the data, masked CRC32C of the data (uint32 LE). The masking exists because CRCs of data that
 * itself contains CRCs are weak; we reproduce it bit-for-bit so TensorFlow and TensorBoard accept
 * our files and we accept theirs.
 */
public final class RecordFiles {

  /** Added after rotating the CRC, as in TensorFlow's {@code crc32c::Mask}. */
  private static final int MASK_DELTA = 0xa282ead8;

  private static final int HEADER_BYTES = 8 + 4;
  private static final int FOOTER_BYTES = 4;

  private RecordFiles() {}

  /** Receives records in file order. */
  @FunctionalInterface
  public interface RecordVisitor {
    /**
     * @param index 0-based position of the record in its file
     * @param data the record's payload, checksums already verified
     */
    void accept(int index, byte[] data);
  }

  /** TensorFlow's masking of a raw CRC32C value: rotate right by 15 bits, then add a constant. */
  public static int mask(int crc) {
    return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
  }

  /** Masked CRC32C of {@code len} bytes of {@code data} from {@code off}. */
  public static int maskedCrc32c(byte[] data, int off, int len) {
    CRC32C crc = new CRC32C();
    crc.update(data, off, len);
    return mask((int) crc.getValue());
  }

  /** Masked CRC32C of all of {@code data}. */
  public static int maskedCrc32c(byte[] data) {
    return maskedCrc32c(data, 0, data.length);
  }

  /** The complete framed bytes of one record holding {@code data}. */
  public static byte[] frame(byte[] data) {
    ByteBuffer buf =
        ByteBuffer.allocate(HEADER_BYTES + data.length + FOOTER_BYTES)
            .order(ByteOrder.LITTLE_ENDIAN);
    buf.putLong(data.length);
    buf.putInt(maskedCrc32c(buf.array(), 0, 8));
    buf.put(data);
    buf.putInt(maskedCrc32c(data));
    return buf.array();
  }

  /**
   * Writes one record with a single {@code write} call, so that a buffered stream never splits a
   * record smaller than its buffer and concurrent readers only see whole records after a flush.
   */
  public static void write(OutputStream out, byte[] data) throws IOException {
    out.write(frame(data));
  }

  /** All records of {@code file}, in order; see {@link #forEach}. */
  public static List<byte[]> readAll(Path file) {
    List<byte[]> records = new ArrayList<>();
    forEach(file, (index, data) -> records.add(data));
    return records;
  }

  /**
   * Streams the records of {@code file} to {@code visitor}, verifying both checksums of each.
   *
   * @throws EventFileException if the file is missing or unreadable, a checksum does not match, or
   *     the file ends inside a record; the message names the file, the record index and the byte
   *     offset
   */
  public static void forEach(Path file, RecordVisitor visitor) {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      long offset = 0;
      for (int index = 0; ; index++) {
        byte[] header = in.readNBytes(HEADER_BYTES);
        if (header.length == 0) {
          return; // clean end of file: the previous record was the last
        }
        ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        need(file, index, offset, "header", HEADER_BYTES, header.length);
        long length = h.getLong(0);
        if (h.getInt(8) != maskedCrc32c(header, 0, 8)) {
          throw corrupt(file, index, offset, "length checksum mismatch");
        }
        if (length < 0 || length > Integer.MAX_VALUE - 16) {
          throw corrupt(
              file, index, offset, "implausible record length " + Long.toUnsignedString(length));
        }
        byte[] data = in.readNBytes((int) length);
        need(file, index, offset, "data", length, data.length);
        byte[] footer = in.readNBytes(FOOTER_BYTES);
        need(file, index, offset, "data checksum", FOOTER_BYTES, footer.length);
        if (ByteBuffer.wrap(footer).order(ByteOrder.LITTLE_ENDIAN).getInt() != maskedCrc32c(data)) {
          throw corrupt(file, index, offset, "data checksum mismatch");
        }
        visitor.accept(index, data);
        offset += HEADER_BYTES + length + FOOTER_BYTES;
      }
    } catch (NoSuchFileException e) {
      throw new EventFileException(file, "no such file", e);
    } catch (IOException e) {
      throw new EventFileException(file, "cannot read: " + e.getMessage(), e);
    }
  }

  private static void need(Path file, int index, long offset, String part, long expected, int got) {
    if (got < expected) {
      throw new EventFileException(
          file,
          String.format(
              "record %d (byte offset %d) is truncated: %s needs %d bytes but the file ends after"
                  + " %d (cut short, or still being written)",
              index, offset, part, expected, got));
    }
  }

  private static EventFileException corrupt(Path file, int index, long offset, String what) {
    return new EventFileException(
        file,
        String.format(
            "record %d (byte offset %d): %s, the file is corrupted", index, offset, what));
  }
}
