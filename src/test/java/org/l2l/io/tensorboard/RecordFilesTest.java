package org.l2l.io.tensorboard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordFilesTest {

  @TempDir Path dir;

  /** Bit-by-bit CRC-32C (reflected Castagnoli polynomial), independent of java.util.zip. */
  private static int slowCrc32c(byte[] data) {
    int crc = 0xffffffff;
    for (byte b : data) {
      crc ^= b & 0xff;
      for (int k = 0; k < 8; k++) {
        crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
      }
    }
    return ~crc;
  }

  /** TensorFlow's mask, written with long arithmetic and Long.rotateRight as a second opinion. */
  private static int slowMask(int crc) {
    long rotated = Integer.toUnsignedLong(Integer.rotateRight(crc, 15));
    return (int) ((rotated + 0xa282ead8L) & 0xffffffffL);
  }

  @Test
  void maskedCrcOfEmptyIsTheMaskConstant() {
    // CRC32C("") = 0, and the rotation of 0 is 0, so only the added constant remains.
    assertEquals(0xa282ead8, RecordFiles.maskedCrc32c(new byte[0]));
  }

  @Test
  void maskedCrcMatchesIndependentFormula() {
    byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);
    assertEquals(0xe3069283, slowCrc32c(check)); // the published CRC-32C check value
    assertEquals(slowMask(0xe3069283), RecordFiles.maskedCrc32c(check));
    byte[] some = new byte[300];
    for (int i = 0; i < some.length; i++) {
      some[i] = (byte) (i * 31 + 7);
    }
    assertEquals(slowMask(slowCrc32c(some)), RecordFiles.maskedCrc32c(some));
    // mask is a rotation plus a constant: check one value by hand
    assertEquals((0x00008000 >>> 15 | 0x00008000 << 17) + 0xa282ead8, RecordFiles.mask(0x00008000));
    assertEquals(0xa282ead9, RecordFiles.mask(0x00008000));
  }

  @Test
  void frameHasLengthChecksumsAndData() {
    byte[] data = {1, 2, 3};
    byte[] framed = RecordFiles.frame(data);
    assertEquals(8 + 4 + 3 + 4, framed.length);
    ByteBuffer b = ByteBuffer.wrap(framed).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(3L, b.getLong());
    assertEquals(slowMask(slowCrc32c(Arrays.copyOf(framed, 8))), b.getInt());
    assertArrayEquals(data, Arrays.copyOfRange(framed, 12, 15));
    b.position(15);
    assertEquals(slowMask(slowCrc32c(data)), b.getInt());
  }

  @Test
  void roundTripIncludingEmptyRecord() throws Exception {
    Path file =
        write("ok", new byte[0], "hello".getBytes(StandardCharsets.UTF_8), new byte[70_000]);
    List<byte[]> records = RecordFiles.readAll(file);
    assertEquals(3, records.size());
    assertEquals(0, records.get(0).length);
    assertEquals("hello", new String(records.get(1), StandardCharsets.UTF_8));
    assertEquals(70_000, records.get(2).length);
  }

  @Test
  void flippedDataByteIsReportedWithFileAndRecord() throws Exception {
    Path file =
        write(
            "bad",
            "first".getBytes(StandardCharsets.UTF_8),
            "second".getBytes(StandardCharsets.UTF_8));
    byte[] bytes = Files.readAllBytes(file);
    bytes[21 + 12 + 2] ^=
        0x01; // record 1 starts after 12 + 5 + 4 = 21 bytes; flip its 3rd data byte
    Files.write(file, bytes);
    EventFileException e = assertThrows(EventFileException.class, () -> RecordFiles.readAll(file));
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    assertTrue(
        e.getMessage().contains("record 1 (byte offset 21): data checksum mismatch"),
        e.getMessage());
    assertEquals(file, e.file());
  }

  @Test
  void flippedLengthByteIsReported() throws Exception {
    Path file = write("badlen", "first".getBytes(StandardCharsets.UTF_8));
    byte[] bytes = Files.readAllBytes(file);
    bytes[0] ^= 0x40;
    Files.write(file, bytes);
    EventFileException e = assertThrows(EventFileException.class, () -> RecordFiles.readAll(file));
    assertTrue(
        e.getMessage().contains("record 0 (byte offset 0): length checksum mismatch"),
        e.getMessage());
  }

  @Test
  void truncationIsReportedForEveryCut() throws Exception {
    Path file =
        write(
            "cut",
            "first".getBytes(StandardCharsets.UTF_8),
            "second!".getBytes(StandardCharsets.UTF_8));
    byte[] bytes = Files.readAllBytes(file);
    int firstRecord = 12 + 5 + 4;
    for (int cut = firstRecord + 1; cut < bytes.length; cut++) {
      Files.write(file, Arrays.copyOf(bytes, cut));
      EventFileException e =
          assertThrows(EventFileException.class, () -> RecordFiles.readAll(file));
      assertTrue(e.getMessage().contains("record 1 (byte offset 21) is truncated"), e.getMessage());
    }
    Files.write(file, Arrays.copyOf(bytes, firstRecord)); // a cut between records is a valid file
    assertEquals(1, RecordFiles.readAll(file).size());
  }

  @Test
  void missingFileIsReported() {
    Path file = dir.resolve("nope");
    EventFileException e = assertThrows(EventFileException.class, () -> RecordFiles.readAll(file));
    assertEquals(file + ": no such file", e.getMessage());
  }

  private Path write(String name, byte[]... records) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] r : records) {
      RecordFiles.write(out, r);
    }
    Path file = dir.resolve(name);
    Files.write(file, out.toByteArray());
    return file;
  }
}
