package org.l2l.io;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;

/**
 * Appends rows to a metrics CSV, one row per epoch, flushing after each row.
 *
 * <p>Rewriting the whole file every epoch would be atomic but quadratic; appending is cheap
 * and, because every row is flushed as one complete line, a killed run loses at most the row
 * being written. On resume from a checkpoint taken after epoch K, call {@link #truncateRows}
 * first so the file holds exactly the rows that match the restored state, then {@link #open}
 * it again and keep appending.
 *
 * <p>Values are formatted with {@link Csv#format}, so floats round-trip and the locale never
 * matters.
 */
public final class CsvAppender implements AutoCloseable {

  private final Path file;
  private final List<String> header;
  private final BufferedWriter out;

  private CsvAppender(Path file, List<String> header, BufferedWriter out) {
    this.file = file;
    this.header = header;
    this.out = out;
  }

  /**
   * Opens {@code file} for appending. A missing or empty file is created with {@code header}
   * as its first line; an existing file must already start with exactly that header and end
   * with a complete line.
   *
   * @param file the metrics file; missing parent folders are created
   * @param header the column names
   * @return the appender; close it when done
   * @throws IOException if the file cannot be opened
   * @throws FormatException if an existing file has a different header or an incomplete last
   *     line (left by a crash; {@link #truncateRows} repairs it)
   */
  public static CsvAppender open(Path file, List<String> header) throws IOException {
    List<String> columns = List.copyOf(header);
    String headerLine = Csv.formatRow(columns);
    Path parent = file.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    boolean fresh = !Files.exists(file) || Files.size(file) == 0;
    if (!fresh) {
      checkExisting(file, columns);
    }
    BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    CsvAppender appender = new CsvAppender(file, columns, out);
    if (fresh) {
      appender.writeLine(headerLine);
    }
    return appender;
  }

  /**
   * Opens {@code file} for appending; see {@link #open(Path, List)}.
   *
   * @param file the metrics file
   * @param header the column names
   * @return the appender
   * @throws IOException if the file cannot be opened
   */
  public static CsvAppender open(Path file, String... header) throws IOException {
    return open(file, Arrays.asList(header));
  }

  /**
   * Appends one row and flushes it to the operating system.
   *
   * @param values exactly one value per column
   * @throws IOException if writing fails
   * @throws IllegalArgumentException if the count is wrong or a value needs quoting
   */
  public void append(List<?> values) throws IOException {
    if (values.size() != header.size()) {
      throw new IllegalArgumentException(file + ": row has " + values.size()
          + " values, header has " + header.size() + " columns");
    }
    writeLine(Csv.formatRow(values));
  }

  /**
   * Appends one row and flushes it; see {@link #append(List)}.
   *
   * @param values exactly one value per column
   * @throws IOException if writing fails
   */
  public void append(Object... values) throws IOException {
    append(Arrays.asList(values));
  }

  /**
   * Returns the file being appended to.
   *
   * @return the path as given to {@link #open}
   */
  public Path file() {
    return file;
  }

  @Override
  public void close() throws IOException {
    out.close();
  }

  /** One write call per line, then flush: a crash leaves whole rows only (or one partial). */
  private void writeLine(String line) throws IOException {
    out.write(line + Csv.LINE_END);
    out.flush();
  }

  /**
   * Atomically cuts {@code file} down to its header plus its first {@code keepDataRows} data
   * rows, discarding everything after (including a partial line left by a crash). Must not be
   * called while an appender is open on the same file, since the file is replaced, not edited.
   *
   * @param file the metrics file
   * @param keepDataRows how many data rows to keep (0 keeps just the header)
   * @throws IOException if reading or writing fails
   * @throws FormatException if the file is missing, has no complete header line, has fewer
   *     than {@code keepDataRows} complete rows, or a kept row has the wrong field count
   */
  public static void truncateRows(Path file, int keepDataRows) throws IOException {
    if (keepDataRows < 0) {
      throw new IllegalArgumentException("keepDataRows must be >= 0, got " + keepDataRows);
    }
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw FormatException.of(file, "no such file", e);
    }
    int headerEnd = text.indexOf('\n');
    if (headerEnd < 0) {
      throw FormatException.of(file, "no complete header line");
    }
    int fields = Csv.split(text.substring(0, headerEnd)).size();
    int end = headerEnd + 1;
    // Only newline-terminated lines count: a trailing fragment is a row cut short by a crash.
    for (int row = 0; row < keepDataRows; row++) {
      int nl = text.indexOf('\n', end);
      if (nl < 0) {
        throw FormatException.of(file, "has only " + row + " complete data rows, cannot keep "
            + keepDataRows);
      }
      int found = Csv.split(text.substring(end, nl)).size();
      if (found != fields) {
        throw FormatException.of(file + ":" + (row + 2), "expected " + fields
            + " fields, found " + found);
      }
      end = nl + 1;
    }
    if (end < text.length()) {
      AtomicFiles.writeString(file, text.substring(0, end));
    }
  }

  private static void checkExisting(Path file, List<String> header) throws IOException {
    String existing;
    try (var lines = Files.lines(file, StandardCharsets.UTF_8)) {
      existing = lines.findFirst().orElse("");
    }
    List<String> found = Csv.split(existing);
    if (!found.equals(header)) {
      throw FormatException.of(file, "header is " + String.join(",", found) + ", expected "
          + String.join(",", header));
    }
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
      raf.seek(raf.length() - 1);
      if (raf.read() != '\n') {
        throw FormatException.of(file, "last line is incomplete (interrupted write?); "
            + "call CsvAppender.truncateRows to drop it");
      }
    }
  }
}
