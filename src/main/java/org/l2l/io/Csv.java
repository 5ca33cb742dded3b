package org.l2l.io;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Minimal CSV for metrics and loss curves: comma separated, {@code \n} line ends, no quoting.
 *
 * <p>Values never contain commas or line breaks (they are numbers and identifiers), so
 * quoting is deliberately unsupported; {@link #format} rejects a value that would need it
 * instead of silently producing a file that reads back differently. Floating-point values are
 * written with {@link Float#toString}/{@link Double#toString}, which are locale-independent and
 * round-trip exactly ({@code NaN} and {@code Infinity} included), so curves reloaded for
 * plotting are bit-identical to what was computed.
 */
public final class Csv {

  /** Field separator. */
  public static final char SEPARATOR = ',';

  /** Line terminator written (a trailing {@code \r} is tolerated when reading). */
  public static final String LINE_END = "\n";

  private Csv() {}

  /**
   * Formats one value as a CSV field.
   *
   * @param value a number, boolean, string or other object; {@code null} becomes an empty field
   * @return the field text
   * @throws IllegalArgumentException if the text would contain a comma or a line break
   */
  public static String format(Object value) {
    String s;
    if (value == null) {
      s = "";
    } else if (value instanceof Float f) {
      s = Float.toString(f);
    } else if (value instanceof Double d) {
      s = Double.toString(d);
    } else {
      // Integers, BigDecimal, booleans and strings all have locale-free toString().
      s = value.toString();
    }
    if (s.indexOf(SEPARATOR) >= 0 || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0) {
      throw new IllegalArgumentException("CSV value contains a comma or line break: " + s);
    }
    return s;
  }

  /**
   * Formats a whole row, without the line terminator.
   *
   * @param values the fields
   * @return the fields formatted by {@link #format} and joined by commas
   */
  public static String formatRow(List<?> values) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < values.size(); i++) {
      if (i > 0) {
        sb.append(SEPARATOR);
      }
      sb.append(format(values.get(i)));
    }
    return sb.toString();
  }

  /**
   * Atomically writes a CSV file.
   *
   * @param file the file to create or replace
   * @param header the column names
   * @param rows the data rows, each with exactly {@code header.size()} values
   * @throws IOException if writing fails
   * @throws IllegalArgumentException if a row has the wrong number of values or a value needs
   *     quoting
   */
  public static void write(Path file, List<String> header, List<? extends List<?>> rows)
      throws IOException {
    // Format everything first so that a bad value fails before any file is touched.
    StringBuilder sb = new StringBuilder();
    sb.append(formatRow(header)).append(LINE_END);
    for (int r = 0; r < rows.size(); r++) {
      List<?> row = rows.get(r);
      if (row.size() != header.size()) {
        throw new IllegalArgumentException("row " + r + " has " + row.size()
            + " values, header has " + header.size() + " columns");
      }
      sb.append(formatRow(row)).append(LINE_END);
    }
    AtomicFiles.writeString(file, sb.toString());
  }

  /**
   * Starts building a table in memory, to be written with {@link Builder#write}.
   *
   * @param header the column names
   * @return a new builder
   */
  public static Builder builder(String... header) {
    return new Builder(Arrays.asList(header));
  }

  /**
   * Starts building a table in memory, to be written with {@link Builder#write}.
   *
   * @param header the column names
   * @return a new builder
   */
  public static Builder builder(List<String> header) {
    return new Builder(header);
  }

  /**
   * Reads a CSV file written by this class (or any unquoted CSV).
   *
   * @param file the file to read
   * @return the header and the data rows as strings
   * @throws FormatException if the file is missing, empty, unreadable, or a line has a
   *     different number of fields than the header
   */
  public static Table read(Path file) {
    List<String> header = null;
    List<List<String>> rows = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int lineNo = 0;
      while ((line = in.readLine()) != null) {
        lineNo++;
        List<String> fields = split(line);
        if (header == null) {
          header = fields;
        } else if (fields.size() != header.size()) {
          throw FormatException.of(file + ":" + lineNo, "expected " + header.size()
              + " fields, found " + fields.size());
        } else {
          rows.add(fields);
        }
      }
    } catch (NoSuchFileException e) {
      throw FormatException.of(file, "no such file", e);
    } catch (IOException e) {
      throw FormatException.of(file, "cannot read: " + e, e);
    }
    if (header == null) {
      throw FormatException.of(file, "empty file (no header line)");
    }
    return new Table(header, rows);
  }

  /** Splits one line; {@code split(",", -1)} keeps trailing empty fields so counts are honest. */
  static List<String> split(String line) {
    if (line.endsWith("\r")) {
      line = line.substring(0, line.length() - 1);
    }
    return List.of(line.split(String.valueOf(SEPARATOR), -1));
  }

  /**
   * A CSV file's content.
   *
   * @param header the column names
   * @param rows the data rows (each the same length as the header)
   */
  public record Table(List<String> header, List<List<String>> rows) {

    /**
     * Makes deep unmodifiable copies.
     *
     * @param header the column names
     * @param rows the data rows
     */
    public Table {
      header = List.copyOf(header);
      List<List<String>> copy = new ArrayList<>(rows.size());
      for (List<String> row : rows) {
        copy.add(List.copyOf(row));
      }
      rows = Collections.unmodifiableList(copy);
    }

    /**
     * Returns the index of a column.
     *
     * @param name the column name
     * @return its zero-based index
     * @throws IllegalArgumentException if there is no such column
     */
    public int columnIndex(String name) {
      int i = header.indexOf(name);
      if (i < 0) {
        throw new IllegalArgumentException("no column \"" + name + "\" (columns: "
            + String.join(", ", header) + ")");
      }
      return i;
    }

    /**
     * Returns one column's values.
     *
     * @param name the column name
     * @return the values, one per data row
     */
    public List<String> column(String name) {
      int i = columnIndex(name);
      List<String> out = new ArrayList<>(rows.size());
      for (List<String> row : rows) {
        out.add(row.get(i));
      }
      return out;
    }

    /**
     * Returns one column parsed as doubles; empty fields become NaN.
     *
     * @param name the column name
     * @return the values, one per data row
     * @throws NumberFormatException if a field is not a number
     */
    public double[] doubles(String name) {
      int i = columnIndex(name);
      double[] out = new double[rows.size()];
      for (int r = 0; r < out.length; r++) {
        String s = rows.get(r).get(i);
        out[r] = s.isEmpty() ? Double.NaN : Double.parseDouble(s);
      }
      return out;
    }
  }

  /** Collects rows in memory and writes them atomically in one go. */
  public static final class Builder {
    private final List<String> header;
    private final List<List<Object>> rows = new ArrayList<>();

    private Builder(List<String> header) {
      this.header = List.copyOf(header);
    }

    /**
     * Adds a row.
     *
     * @param values exactly one value per column
     * @return this builder
     * @throws IllegalArgumentException if the count is wrong
     */
    public Builder row(Object... values) {
      return row(Arrays.asList(values));
    }

    /**
     * Adds a row.
     *
     * @param values exactly one value per column
     * @return this builder
     * @throws IllegalArgumentException if the count is wrong
     */
    public Builder row(List<?> values) {
      Objects.requireNonNull(values, "values");
      if (values.size() != header.size()) {
        throw new IllegalArgumentException("row has " + values.size() + " values, header has "
            + header.size() + " columns");
      }
      rows.add(new ArrayList<>(values));
      return this;
    }

    /**
     * Writes the table atomically.
     *
     * @param file the file to create or replace
     * @throws IOException if writing fails
     */
    public void write(Path file) throws IOException {
      Csv.write(file, header, rows);
    }
  }
}
