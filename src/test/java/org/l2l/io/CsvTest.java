package org.l2l.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvTest {

  @TempDir Path dir;

  @Test
  void roundTripIsExactAndLocaleIndependent() throws IOException {
    Locale saved = Locale.getDefault();
    // A decimal-comma locale: any locale-dependent formatting would break the columns.
    Locale.setDefault(Locale.GERMANY);
    try {
      Path file = dir.resolve("out/curve.csv");
      Csv.builder("step", "loss", "lr", "name")
          .row(0, 0.1f, 1e-300, "adam")
          .row(1L, Float.NaN, -0.0, "lstm")
          .row(2, Float.MIN_VALUE, Double.POSITIVE_INFINITY, null)
          .write(file);
      assertEquals("step,loss,lr,name\n0,0.1,1.0E-300,adam\n1,NaN,-0.0,lstm\n"
          + "2,1.4E-45,Infinity,\n", Files.readString(file));

      Csv.Table t = Csv.read(file);
      assertEquals(List.of("step", "loss", "lr", "name"), t.header());
      assertEquals(3, t.rows().size());
      assertEquals(0.1f, Float.parseFloat(t.rows().get(0).get(1)));
      assertEquals(Float.MIN_VALUE, Float.parseFloat(t.rows().get(2).get(1)));
      assertArrayEquals(new double[] {1e-300, -0.0, Double.POSITIVE_INFINITY}, t.doubles("lr"));
      assertEquals(List.of("adam", "lstm", ""), t.column("name"));
    } finally {
      Locale.setDefault(saved);
    }
  }

  @Test
  void wrongFieldCountIsRejected() throws IOException {
    Path file = dir.resolve("bad.csv");
    Files.writeString(file, "a,b\n1,2\n3\n");
    FormatException e = assertThrows(FormatException.class, () -> Csv.read(file));
    assertEquals(file + ":3: expected 2 fields, found 1", e.getMessage());
  }

  @Test
  void valuesNeedingQuotesAndBadRowsAreRejectedOnWrite() {
    assertThrows(IllegalArgumentException.class, () -> Csv.format("a,b"));
    assertThrows(IllegalArgumentException.class, () -> Csv.builder("a", "b").row(1));
    Path file = dir.resolve("never.csv");
    assertThrows(IllegalArgumentException.class,
        () -> Csv.write(file, List.of("a"), List.of(List.of("x\ny"))));
    assertEquals(false, Files.exists(file));
  }

  @Test
  void missingFileIsReported() {
    Path file = dir.resolve("none.csv");
    FormatException e = assertThrows(FormatException.class, () -> Csv.read(file));
    assertEquals(file + ": no such file", e.getMessage());
  }

  @Test
  void appenderAppendsAcrossReopensAndTruncatesForResume() throws IOException {
    Path file = dir.resolve("run/metrics.csv");
    try (CsvAppender a = CsvAppender.open(file, "epoch", "loss")) {
      a.append(1, 0.5);
      a.append(2, 0.25f);
      // Flushed per row: visible before close.
      assertEquals(2, Csv.read(file).rows().size());
    }
    try (CsvAppender a = CsvAppender.open(file, List.of("epoch", "loss"))) {
      a.append(3, 0.125);
      a.append(List.of(4, 0.0625));
    }
    assertEquals("epoch,loss\n1,0.5\n2,0.25\n3,0.125\n4,0.0625\n", Files.readString(file));

    CsvAppender.truncateRows(file, 2);
    assertEquals("epoch,loss\n1,0.5\n2,0.25\n", Files.readString(file));
    CsvAppender.truncateRows(file, 0);
    assertEquals("epoch,loss\n", Files.readString(file));
  }

  @Test
  void appenderRefusesPartialLineUntilTruncated() throws IOException {
    Path file = dir.resolve("metrics.csv");
    Files.writeString(file, "epoch,loss\n1,0.5\n2,0.2");
    FormatException e = assertThrows(FormatException.class,
        () -> CsvAppender.open(file, "epoch", "loss"));
    assertEquals(file + ": last line is incomplete (interrupted write?); call "
        + "CsvAppender.truncateRows to drop it", e.getMessage());

    FormatException tooMany = assertThrows(FormatException.class,
        () -> CsvAppender.truncateRows(file, 2));
    assertEquals(file + ": has only 1 complete data rows, cannot keep 2", tooMany.getMessage());

    CsvAppender.truncateRows(file, 1);
    try (CsvAppender a = CsvAppender.open(file, "epoch", "loss")) {
      a.append(2, 0.25);
    }
    assertEquals("epoch,loss\n1,0.5\n2,0.25\n", Files.readString(file));
  }

  @Test
  void appenderRejectsDifferentHeader() throws IOException {
    Path file = dir.resolve("m.csv");
    Files.writeString(file, "epoch,loss\n");
    FormatException e = assertThrows(FormatException.class,
        () -> CsvAppender.open(file, "epoch", "acc"));
    assertEquals(file + ": header is epoch,loss, expected epoch,acc", e.getMessage());
  }
}
