package org.l2l.io;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads and writes named float32 tensors, e.g. the weights of a trained LSTM optimizer, in a
 * small self-describing binary format ({@code .l2lw}).
 *
 * <h2>Layout</h2>
 *
 * <pre>
 * offset  size  content
 * 0       4     magic, ASCII "L2LW"
 * 4       4     format version, uint32 little-endian (currently 2; 1 is read too)
 * 8       4     header length N in bytes, uint32 little-endian
 * 12      N     header, UTF-8 JSON (see below)
 * 12+N    4*F   data: float32 little-endian values of every tensor, concatenated in header
 *               order, each tensor in row-major (C) order; F = sum of all tensor lengths
 * </pre>
 *
 * <p>The header is a JSON object:
 *
 * <pre>
 * {"format":"l2l-weights","version":2,
 *  "tensors":[{"name":"lstm/layer0/kernel","shape":[41,80],"offset":0,"length":3280}, ...],
 *  "metadata":{ ...any JSON object... }}
 * </pre>
 *
 * <p>{@code offset} and {@code length} count float32 elements from the start of the data
 * section; {@code length} equals the product of {@code shape} (1 for a scalar, {@code []}),
 * and each tensor starts where the previous one ends. Metadata numbers that are NaN or
 * infinite are written as the bare tokens {@code NaN}, {@code Infinity}, {@code -Infinity}
 * (accepted by Gson and Python's {@code json}).
 *
 * <p>Why not TensorFlow's checkpoint format: it ties the file to graph variable names and to
 * the native runtime, while this file can be inspected with {@code head -c} and loaded by a
 * few lines of numpy ({@code np.frombuffer(data, '<f4')}).
 *
 * <p>Reading is strict: every inconsistency raises a {@link FormatException} whose one-line
 * message names the file and the problem.
 */
public final class WeightsFile {

  /** The four bytes every weights file starts with. */
  public static final String MAGIC = "L2LW";

  /**
   * The format version this class writes. Version 2 has the layout of version 1; what changed is
   * the metadata of optimizer files, which may hold several learned rules ({@link OptimizerFile}).
   */
  public static final int VERSION = 2;
  /** The oldest version this class reads. */
  public static final int OLDEST_VERSION = 1;

  /** Value of the header's {@code "format"} field. */
  public static final String FORMAT_NAME = "l2l-weights";

  /** Conventional file name extension. */
  public static final String EXTENSION = ".l2lw";

  private static final byte[] MAGIC_BYTES = MAGIC.getBytes(StandardCharsets.US_ASCII);

  /** Magic, version and header length: three 4-byte fields. */
  private static final int PREAMBLE_BYTES = MAGIC_BYTES.length + 2 * Integer.BYTES;

  /**
   * Sanity bound on the header length, so that a corrupt length field cannot make the reader
   * allocate gigabytes; real headers are a few kilobytes.
   */
  private static final long MAX_HEADER_BYTES = 64L << 20;

  /** Floats converted per chunk when streaming the data section out. */
  private static final int WRITE_CHUNK_FLOATS = 1 << 14;

  /** NaN in metadata (e.g. a diverged loss) must not make saving fail. */
  private static final Gson GSON =
      new GsonBuilder().serializeSpecialFloatingPointValues().disableHtmlEscaping().create();

  private WeightsFile() {}

  /**
   * A named tensor of float32 values in row-major order.
   *
   * <p>The constructor copies both arrays, so later changes by the caller do not leak in; the
   * accessors return the internal arrays for speed, which callers must not modify. Equality
   * compares contents ({@link Arrays#equals(float[], float[])}, i.e. NaN equals NaN).
   *
   * @param name non-empty, unique within a file, e.g. {@code "lstm/layer0/kernel"}
   * @param shape non-negative dimensions; {@code []} for a scalar
   * @param values exactly {@code product(shape)} values
   */
  public record NamedTensor(String name, long[] shape, float[] values) {

    /**
     * Validates and copies.
     *
     * @param name non-empty tensor name
     * @param shape non-negative dimensions
     * @param values exactly {@code product(shape)} values
     * @throws IllegalArgumentException if the name is empty, a dimension is negative, or
     *     {@code values.length} differs from the product of {@code shape}
     */
    public NamedTensor {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(shape, "shape");
      Objects.requireNonNull(values, "values");
      if (name.isEmpty()) {
        throw new IllegalArgumentException("tensor name must not be empty");
      }
      long expected = elementCount(shape);
      if (expected < 0) {
        throw new IllegalArgumentException(
            "tensor " + name + ": invalid shape " + Arrays.toString(shape));
      }
      if (values.length != expected) {
        throw new IllegalArgumentException(
            "tensor " + name + ": shape " + Arrays.toString(shape) + " needs " + expected
                + " values, got " + values.length);
      }
      shape = shape.clone();
      values = values.clone();
    }

    /**
     * Returns the number of elements.
     *
     * @return {@code values().length}
     */
    public int size() {
      return values.length;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof NamedTensor t
          && name.equals(t.name)
          && Arrays.equals(shape, t.shape)
          && Arrays.equals(values, t.values);
    }

    @Override
    public int hashCode() {
      return Objects.hash(name, Arrays.hashCode(shape), Arrays.hashCode(values));
    }

    @Override
    public String toString() {
      return "NamedTensor[" + name + " " + Arrays.toString(shape) + "]";
    }
  }

  /**
   * The content of a weights file.
   *
   * @param tensors the tensors in file order (unmodifiable)
   * @param metadata the header's metadata object (a private copy; empty if none was written)
   */
  public record Weights(List<NamedTensor> tensors, JsonObject metadata) {

    /**
     * Copies, so the record is effectively immutable.
     *
     * @param tensors the tensors in file order
     * @param metadata the metadata object; null means empty
     */
    public Weights {
      tensors = List.copyOf(tensors);
      metadata = metadata == null ? new JsonObject() : metadata.deepCopy();
    }

    /**
     * Returns the tensor called {@code name}.
     *
     * @param name the tensor name
     * @return the tensor
     * @throws FormatException if there is none; the message lists the names that exist, since
     *     a missing tensor usually means the file was written by a differently shaped model
     */
    public NamedTensor tensor(String name) {
      for (NamedTensor t : tensors) {
        if (t.name().equals(name)) {
          return t;
        }
      }
      throw new FormatException(
          "no tensor named \"" + name + "\" (the file has: " + String.join(", ", names()) + ")");
    }

    /**
     * Returns the tensor names in file order.
     *
     * @return the names
     */
    public List<String> names() {
      return tensors.stream().map(NamedTensor::name).collect(Collectors.toList());
    }
  }

  /**
   * Atomically writes {@code tensors} and {@code metadata} to {@code file} (see {@link
   * AtomicFiles#write}).
   *
   * @param file the file to create or replace
   * @param tensors the tensors, in the order they are to be stored
   * @param metadata any JSON object (e.g. hyper-parameters, training step); may be null
   * @throws IOException if writing fails
   * @throws IllegalArgumentException if two tensors share a name
   */
  public static void write(Path file, List<NamedTensor> tensors, JsonObject metadata)
      throws IOException {
    byte[] header = GSON.toJson(header(tensors, metadata)).getBytes(StandardCharsets.UTF_8);
    ByteBuffer preamble = ByteBuffer.allocate(PREAMBLE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    preamble.put(MAGIC_BYTES).putInt(VERSION).putInt(header.length);
    AtomicFiles.write(file, out -> {
      out.write(preamble.array());
      out.write(header);
      for (NamedTensor t : tensors) {
        writeFloats(out, t.values());
      }
    });
  }

  /**
   * Reads and validates a weights file.
   *
   * @param file the file to read
   * @return its tensors and metadata
   * @throws FormatException if the file is missing, unreadable, or malformed in any way
   */
  public static Weights read(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return read(file, ch);
    } catch (NoSuchFileException e) {
      throw FormatException.of(file, "no such file", e);
    } catch (AccessDeniedException e) {
      throw FormatException.of(file, "permission denied", e);
    } catch (IOException e) {
      throw FormatException.of(file, "cannot read: " + e, e);
    }
  }

  private static Weights read(Path file, FileChannel ch) throws IOException {
    long size = ch.size();
    if (size < PREAMBLE_BYTES) {
      throw FormatException.of(file, "truncated: file has " + size
          + " bytes, the preamble alone needs " + PREAMBLE_BYTES);
    }
    ByteBuffer preamble = readFully(ch, 0, PREAMBLE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    byte[] magic = new byte[MAGIC_BYTES.length];
    preamble.get(magic);
    if (!Arrays.equals(magic, MAGIC_BYTES)) {
      throw FormatException.of(file, "bad magic: expected \"" + MAGIC + "\", found \""
          + printable(magic) + "\" (not an l2l weights file)");
    }
    long version = Integer.toUnsignedLong(preamble.getInt());
    if (version < OLDEST_VERSION || version > VERSION) {
      throw FormatException.of(file, "unsupported format version " + version
          + " (this reader supports " + OLDEST_VERSION + " to " + VERSION + ")");
    }
    long headerBytes = Integer.toUnsignedLong(preamble.getInt());
    if (headerBytes > MAX_HEADER_BYTES) {
      throw FormatException.of(file, "corrupt: header length " + headerBytes
          + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
    }
    if (PREAMBLE_BYTES + headerBytes > size) {
      throw FormatException.of(file, "truncated: header declares " + headerBytes
          + " bytes, file has " + (size - PREAMBLE_BYTES) + " after the preamble");
    }
    ByteBuffer headerBuf = readFully(ch, PREAMBLE_BYTES, (int) headerBytes);
    String json;
    try {
      CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(headerBuf);
      json = chars.toString();
    } catch (CharacterCodingException e) {
      throw FormatException.of(file, "header is not valid UTF-8", e);
    }
    JsonObject header;
    try {
      JsonElement parsed = JsonParser.parseString(json);
      if (!parsed.isJsonObject()) {
        throw FormatException.of(file, "header is not a JSON object");
      }
      header = parsed.getAsJsonObject();
    } catch (JsonParseException e) {
      throw FormatException.of(file, "header is not valid JSON: " + e.getMessage(), e);
    }

    List<TensorEntry> entries = parseHeader(file, header, version);
    long declaredFloats = 0;
    for (TensorEntry e : entries) {
      declaredFloats += e.length;
    }
    long dataStart = PREAMBLE_BYTES + headerBytes;
    long dataBytes = size - dataStart;
    long declaredBytes = declaredFloats * Float.BYTES;
    if (dataBytes != declaredBytes) {
      String actual = dataBytes % Float.BYTES == 0
          ? Long.toString(dataBytes / Float.BYTES)
          : (dataBytes / Float.BYTES) + " floats and " + (dataBytes % Float.BYTES) + " stray bytes";
      String problem = dataBytes < declaredBytes ? "truncated" : "trailing bytes";
      throw FormatException.of(file, problem + ": header declares " + declaredFloats
          + " floats, file has " + actual);
    }

    List<NamedTensor> tensors = new ArrayList<>(entries.size());
    for (TensorEntry e : entries) {
      ByteBuffer bytes = readFully(ch, dataStart + e.offset * Float.BYTES,
          Math.toIntExact(e.length * Float.BYTES));
      float[] values = new float[(int) e.length];
      bytes.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
      tensors.add(new NamedTensor(e.name, e.shape, values));
    }
    JsonElement meta = header.get("metadata");
    return new Weights(tensors, meta == null ? new JsonObject() : meta.getAsJsonObject());
  }

  /** A tensor as described by the header, before its values are read. */
  private record TensorEntry(String name, long[] shape, long offset, long length) {}

  private static List<TensorEntry> parseHeader(Path file, JsonObject header, long version) {
    JsonElement format = header.get("format");
    if (format == null || !format.isJsonPrimitive()
        || !FORMAT_NAME.equals(format.getAsString())) {
      throw FormatException.of(file, "header: \"format\" is " + format + ", expected \""
          + FORMAT_NAME + "\"");
    }
    long headerVersion = integer(file, header.get("version"), "header: \"version\"");
    if (headerVersion != version) {
      throw FormatException.of(file, "header: \"version\" is " + headerVersion
          + " but the preamble says " + version);
    }
    JsonElement meta = header.get("metadata");
    if (meta != null && !meta.isJsonObject()) {
      throw FormatException.of(file, "header: \"metadata\" is not a JSON object");
    }
    JsonElement list = header.get("tensors");
    if (list == null || !list.isJsonArray()) {
      throw FormatException.of(file, "header: \"tensors\" is missing or not an array");
    }
    List<TensorEntry> entries = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    long nextOffset = 0;
    JsonArray array = list.getAsJsonArray();
    for (int i = 0; i < array.size(); i++) {
      String where = "header: tensors[" + i + "]";
      if (!array.get(i).isJsonObject()) {
        throw FormatException.of(file, where + " is not an object");
      }
      JsonObject t = array.get(i).getAsJsonObject();
      JsonElement nameEl = t.get("name");
      if (nameEl == null || !nameEl.isJsonPrimitive() || !nameEl.getAsJsonPrimitive().isString()
          || nameEl.getAsString().isEmpty()) {
        throw FormatException.of(file, where + ".name is missing or not a non-empty string");
      }
      String name = nameEl.getAsString();
      where = "header: tensor \"" + name + "\"";
      if (!seen.add(name)) {
        throw FormatException.of(file, where + " appears twice");
      }
      JsonElement shapeEl = t.get("shape");
      if (shapeEl == null || !shapeEl.isJsonArray()) {
        throw FormatException.of(file, where + ": shape is missing or not an array");
      }
      JsonArray shapeArr = shapeEl.getAsJsonArray();
      long[] shape = new long[shapeArr.size()];
      for (int d = 0; d < shape.length; d++) {
        shape[d] = integer(file, shapeArr.get(d), where + ": shape[" + d + "]");
      }
      long count = elementCount(shape);
      if (count < 0) {
        throw FormatException.of(file, where + ": invalid shape " + Arrays.toString(shape));
      }
      long offset = integer(file, t.get("offset"), where + ": offset");
      long length = integer(file, t.get("length"), where + ": length");
      if (length != count) {
        throw FormatException.of(file, where + ": length " + length + " does not match shape "
            + Arrays.toString(shape) + " (" + count + " elements)");
      }
      if (offset != nextOffset) {
        throw FormatException.of(file, where + ": offset " + offset + ", expected " + nextOffset
            + " (tensors must be stored contiguously in header order)");
      }
      nextOffset += length;
      entries.add(new TensorEntry(name, shape, offset, length));
    }
    return entries;
  }

  /** Reads a JSON integer, rejecting fractions, strings, and values beyond {@code long}. */
  private static long integer(Path file, JsonElement el, String what) {
    if (el == null || !el.isJsonPrimitive() || !el.getAsJsonPrimitive().isNumber()) {
      throw FormatException.of(file, what + " is missing or not a number");
    }
    try {
      return el.getAsBigDecimal().longValueExact();
    } catch (ArithmeticException | NumberFormatException e) {
      throw FormatException.of(file, what + " is not an integer: " + el, e);
    }
  }

  private static JsonObject header(List<NamedTensor> tensors, JsonObject metadata) {
    JsonObject header = new JsonObject();
    header.addProperty("format", FORMAT_NAME);
    header.addProperty("version", VERSION);
    JsonArray list = new JsonArray();
    Set<String> names = new HashSet<>();
    long offset = 0;
    for (NamedTensor t : tensors) {
      if (!names.add(t.name())) {
        throw new IllegalArgumentException("duplicate tensor name " + t.name());
      }
      JsonObject entry = new JsonObject();
      entry.addProperty("name", t.name());
      JsonArray shape = new JsonArray();
      for (long d : t.shape()) {
        shape.add(new JsonPrimitive(d));
      }
      entry.add("shape", shape);
      entry.addProperty("offset", offset);
      entry.addProperty("length", t.size());
      list.add(entry);
      offset += t.size();
    }
    header.add("tensors", list);
    header.add("metadata", metadata == null ? new JsonObject() : metadata);
    return header;
  }

  /**
   * Streams {@code values} as little-endian float32 in bounded chunks (the bulk FloatBuffer
   * copy keeps raw bits, including NaN payloads).
   */
  private static void writeFloats(OutputStream out, float[] values) throws IOException {
    ByteBuffer chunk = ByteBuffer.allocate(Math.min(values.length, WRITE_CHUNK_FLOATS) * Float.BYTES)
        .order(ByteOrder.LITTLE_ENDIAN);
    for (int start = 0; start < values.length; start += WRITE_CHUNK_FLOATS) {
      int n = Math.min(WRITE_CHUNK_FLOATS, values.length - start);
      chunk.clear();
      chunk.asFloatBuffer().put(values, start, n);
      out.write(chunk.array(), 0, n * Float.BYTES);
    }
  }

  /**
   * Returns the product of {@code shape}, or -1 if a dimension is negative or the product does
   * not fit in a Java array.
   */
  private static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        return -1;
      }
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException e) {
        return -1;
      }
      if (n > Integer.MAX_VALUE) {
        return -1;
      }
    }
    return n;
  }

  private static ByteBuffer readFully(FileChannel ch, long position, int length)
      throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(length);
    while (buf.hasRemaining()) {
      if (ch.read(buf, position + buf.position()) < 0) {
        throw new IOException("unexpected end of file");
      }
    }
    buf.flip();
    return buf;
  }

  /** Shows arbitrary bytes as ASCII with escapes, for the bad-magic message. */
  private static String printable(byte[] bytes) {
    StringBuilder sb = new StringBuilder();
    for (byte b : bytes) {
      int c = b & 0xFF;
      if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
        sb.append((char) c);
      } else {
        sb.append(String.format(java.util.Locale.ROOT, "\\x%02X", c));
      }
    }
    return sb.toString();
  }
}
