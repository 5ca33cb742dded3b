package org.l2l.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.l2l.io.WeightsFile.NamedTensor;
import org.l2l.io.WeightsFile.Weights;

class WeightsFileTest {

  @TempDir Path dir;

  /** Values that a lossy or locale-dependent encoding would mangle. */
  private static final float[] SPECIAL = {
      0.0f, -0.0f, 1e-30f, Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE,
      Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
      Float.intBitsToFloat(0x7fc12345), -1.5f, 3.14159265f,
  };

  private static List<NamedTensor> sample() {
    return List.of(
        new NamedTensor("lstm/layer0/kernel", new long[] {3, 4}, SPECIAL),
        new NamedTensor("lstm/scale", new long[] {}, new float[] {0.1f}),
        new NamedTensor("empty", new long[] {0, 5}, new float[0]),
        new NamedTensor("lstm/layer0/bias", new long[] {4}, new float[] {1, 2, 3, 4}));
  }

  private Path writeSample(String name) throws IOException {
    JsonObject meta = new JsonObject();
    meta.addProperty("hidden", 20);
    meta.addProperty("note", "größe \"quoted\" <tag>");
    meta.addProperty("bestLoss", Double.NaN);
    JsonObject nested = new JsonObject();
    nested.addProperty("lr", 0.001);
    meta.add("train", nested);
    Path file = dir.resolve("sub").resolve(name);
    WeightsFile.write(file, sample(), meta);
    return file;
  }

  @Test
  void roundTripIsBitExactAndKeepsMetadata() throws IOException {
    Path file = writeSample("w.l2lw");
    Weights w = WeightsFile.read(file);

    assertEquals(List.of("lstm/layer0/kernel", "lstm/scale", "empty", "lstm/layer0/bias"),
        w.names());
    float[] back = w.tensor("lstm/layer0/kernel").values();
    assertEquals(SPECIAL.length, back.length);
    for (int i = 0; i < SPECIAL.length; i++) {
      assertEquals(Float.floatToRawIntBits(SPECIAL[i]), Float.floatToRawIntBits(back[i]),
          "element " + i);
    }
    assertArrayEquals(new long[] {3, 4}, w.tensor("lstm/layer0/kernel").shape());
    assertArrayEquals(new long[] {}, w.tensor("lstm/scale").shape());
    assertEquals(0, w.tensor("empty").size());
    assertEquals(sample(), w.tensors());

    assertEquals(20, w.metadata().get("hidden").getAsInt());
    assertEquals("größe \"quoted\" <tag>", w.metadata().get("note").getAsString());
    assertTrue(Double.isNaN(w.metadata().get("bestLoss").getAsDouble()));
    assertEquals(0.001, w.metadata().getAsJsonObject("train").get("lr").getAsDouble());
  }

  @Test
  void layoutMatchesTheDocumentedFormat() throws IOException {
    Path file = writeSample("w.l2lw");
    byte[] bytes = Files.readAllBytes(file);
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals("L2LW", new String(bytes, 0, 4, StandardCharsets.US_ASCII));
    buf.position(4);
    assertEquals(2, buf.getInt());
    int headerLength = buf.getInt();
    JsonObject header = JsonParser.parseString(
        new String(bytes, 12, headerLength, StandardCharsets.UTF_8)).getAsJsonObject();
    assertEquals("l2l-weights", header.get("format").getAsString());
    assertEquals(2, header.get("version").getAsInt());
    JsonObject bias = header.getAsJsonArray("tensors").get(3).getAsJsonObject();
    assertEquals(13, bias.get("offset").getAsLong());
    assertEquals(4, bias.get("length").getAsLong());
    int totalFloats = 12 + 1 + 0 + 4;
    assertEquals(12 + headerLength + 4 * totalFloats, bytes.length);
    // The bias values sit at their declared offset, little-endian.
    buf.position(12 + headerLength + 4 * 13);
    assertEquals(1f, buf.getFloat());
    assertEquals(2f, buf.getFloat());
  }

  @Test
  void truncatedFileIsRejected() throws IOException {
    Path file = writeSample("t.l2lw");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() - 2 * Float.BYTES);
    }
    FormatException e = assertThrows(FormatException.class, () -> WeightsFile.read(file));
    assertEquals(file + ": truncated: header declares 17 floats, file has 15", e.getMessage());
  }

  @Test
  void fileShorterThanPreambleIsRejected() throws IOException {
    Path file = dir.resolve("short.l2lw");
    Files.write(file, new byte[] {'L', '2'});
    FormatException e = assertThrows(FormatException.class, () -> WeightsFile.read(file));
    assertTrue(e.getMessage().startsWith(file + ": truncated: file has 2 bytes"), e.getMessage());
  }

  @Test
  void badMagicIsRejected() throws IOException {
    Path file = writeSample("m.l2lw");
    byte[] bytes = Files.readAllBytes(file);
    bytes[0] = 'P';
    bytes[1] = 'K';
    bytes[2] = 3;
    Files.write(file, bytes);
    FormatException e = assertThrows(FormatException.class, () -> WeightsFile.read(file));
    assertEquals(file + ": bad magic: expected \"L2LW\", found \"PK\\x03W\" "
        + "(not an l2l weights file)", e.getMessage());
  }

  @Test
  void unsupportedVersionIsRejected() throws IOException {
    Path file = writeSample("v.l2lw");
    byte[] bytes = Files.readAllBytes(file);
    bytes[4] = 3;
    Files.write(file, bytes);
    FormatException e = assertThrows(FormatException.class, () -> WeightsFile.read(file));
    assertEquals(file + ": unsupported format version 3 (this reader supports 1 to 2)",
        e.getMessage());
  }

  @Test
  void trailingBytesAreRejected() throws IOException {
    Path file = writeSample("x.l2lw");
    Files.write(file, new byte[] {1, 2, 3, 4, 5}, StandardOpenOption.APPEND);
    FormatException e = assertThrows(FormatException.class, () -> WeightsFile.read(file));
    assertEquals(file + ": trailing bytes: header declares 17 floats, file has 18 floats and 1 "
        + "stray bytes", e.getMessage());
  }

  @Test
  void shapeValuesMismatchIsRejectedOnConstruction() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new NamedTensor("w", new long[] {2, 3}, new float[5]));
    assertEquals("tensor w: shape [2, 3] needs 6 values, got 5", e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> new NamedTensor("w", new long[] {-1}, new float[0]));
  }

  @Test
  void headerLengthInconsistentWithShapeIsRejected() throws IOException {
    String header = "{\"format\":\"l2l-weights\",\"version\":1,\"tensors\":[{\"name\":\"w\","
        + "\"shape\":[2,3],\"offset\":0,\"length\":5}],\"metadata\":{}}";
    Path file = dir.resolve("bad-header.l2lw");
    Files.write(file, rawFile(header, new float[5]));
    FormatException e = assertThrows(FormatException.class, () -> WeightsFile.read(file));
    assertEquals(file + ": header: tensor \"w\": length 5 does not match shape [2, 3] "
        + "(6 elements)", e.getMessage());
  }

  @Test
  void unparsableHeaderIsRejected() throws IOException {
    Path file = dir.resolve("json.l2lw");
    Files.write(file, rawFile("{\"format\": [", new float[0]));
    FormatException e = assertThrows(FormatException.class, () -> WeightsFile.read(file));
    assertTrue(e.getMessage().startsWith(file + ": header is not valid JSON"), e.getMessage());
    assertTrue(!e.getMessage().contains("\n"), "message must be one line");
  }

  @Test
  void missingFileAndMissingTensorHaveClearErrors() throws IOException {
    Path missing = dir.resolve("checkpoints/q/best/optimizer.l2lw");
    FormatException e = assertThrows(FormatException.class, () -> WeightsFile.read(missing));
    assertEquals(missing + ": no such file", e.getMessage());

    Weights w = WeightsFile.read(writeSample("n.l2lw"));
    FormatException noTensor = assertThrows(FormatException.class, () -> w.tensor("nope"));
    assertEquals("no tensor named \"nope\" (the file has: lstm/layer0/kernel, lstm/scale, "
        + "empty, lstm/layer0/bias)", noTensor.getMessage());
  }

  @Test
  void duplicateNamesAreRejectedOnWrite() {
    List<NamedTensor> dup = List.of(new NamedTensor("a", new long[] {1}, new float[] {1}),
        new NamedTensor("a", new long[] {1}, new float[] {2}));
    assertThrows(IllegalArgumentException.class,
        () -> WeightsFile.write(dir.resolve("d.l2lw"), dup, null));
    assertTrue(!Files.exists(dir.resolve("d.l2lw")));
  }

  /** Builds a file by hand, to test headers the writer would never produce. */
  private static byte[] rawFile(String header, float[] data) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer buf = ByteBuffer.allocate(12 + h.length + 4 * data.length)
        .order(ByteOrder.LITTLE_ENDIAN);
    buf.put("L2LW".getBytes(StandardCharsets.US_ASCII)).putInt(1).putInt(h.length).put(h);
    for (float f : data) {
      buf.putFloat(f);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(buf.array());
    return out.toByteArray();
  }
}
