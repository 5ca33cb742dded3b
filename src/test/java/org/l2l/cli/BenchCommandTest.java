package org.l2l.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** {@code l2l bench}: its JSON line and its one-line errors. */
class BenchCommandTest {

  @Test
  @Tag("child-jvm")
  void printsOneJsonLineMeasuredInAChildJvm() {
    CliTest.Printed p = CliTest.runPrinting("bench", "--only", "meta_step_quadratic_1",
        "--runs", "3");
    assertEquals(0, p.code(), p.err());
    List<String> lines = p.out().lines().toList();
    assertEquals(1, lines.size(), p.out());
    JsonObject o = JsonParser.parseString(lines.get(0)).getAsJsonObject();
    for (String key : List.of("name", "median_ms", "min_ms", "max_ms", "runs", "threads",
        "peak_rss_mb")) {
      assertTrue(o.has(key), key + " in " + o);
    }
    assertEquals("meta_step_quadratic_1", o.get("name").getAsString());
    assertEquals(3, o.get("runs").getAsInt());
    assertEquals(2, o.get("threads").getAsInt());
    double min = o.get("min_ms").getAsDouble();
    double median = o.get("median_ms").getAsDouble();
    double max = o.get("max_ms").getAsDouble();
    assertTrue(min > 0 && min <= median && median <= max, o.toString());
    assertTrue(o.get("peak_rss_mb").getAsDouble() > 0, o.toString());
  }

  @Test
  void badFlagsAreOneLineWithExitCode2() {
    CliTest.Printed p = CliTest.runPrinting("bench", "--only", "meta_step_quadratic_1,nope");
    assertEquals(Main.EXIT_USAGE, p.code());
    assertEquals("", p.out());
    List<String> lines = p.err().lines().toList();
    assertEquals(1, lines.size(), p.err());
    assertTrue(lines.get(0).startsWith("l2l: --only nope: unknown; allowed: "), lines.get(0));
    for (String name : BenchCommand.NAMES) {
      assertTrue(lines.get(0).contains(name), name + " in " + lines.get(0));
    }
    for (String[] bad : List.of(new String[] {"--runs", "0"}, new String[] {"--threads", "-1"})) {
      CliTest.Printed q = CliTest.runPrinting("bench", bad[0], bad[1]);
      assertEquals(Main.EXIT_USAGE, q.code(), q.err());
      assertEquals(List.of("l2l: " + bad[0] + " " + bad[1] + ": "
          + (bad[0].equals("--runs") ? "must be a positive integer"
              : "must be zero or a positive integer")), q.err().lines().toList());
      assertEquals("", q.out());
    }
  }

  @Test
  void medianOfEvenAndOddCounts() {
    assertEquals(2.0, BenchCommand.median(new double[] {1, 2, 7}));
    assertEquals(2.5, BenchCommand.median(new double[] {1, 2, 3, 9}));
  }
}
