package org.l2l.repro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The report's verdicts on the paper's claims, on made-up losses at the last step. */
class ReportVerdictTest {

  private static final Report REPORT = new Report(null, null, null, null);

  /** Losses at step 1 (step 0 is 10 for everyone) per optimizer, one value per instance. */
  private static Report.Pooled pooled(Map<String, double[]> finals) {
    Map<String, List<double[]>> rows = new LinkedHashMap<>();
    finals.forEach((name, values) -> {
      List<double[]> r = new ArrayList<>();
      for (double v : values) {
        r.add(new double[] {10, v});
      }
      rows.put(name, r);
    });
    return new Report.Pooled(rows, Map.of());
  }

  private static Report.Verdict verdict(String claim, Map<String, double[]> finals) {
    return REPORT.verdict(new Plan.Comparison("c", "t", "l2l", 1, claim, "paper", List.of()),
        pooled(finals));
  }

  private static Map<String, double[]> of(double[] l2l, double[] nag, double[] adam) {
    Map<String, double[]> m = new LinkedHashMap<>();
    m.put("l2l", l2l);
    m.put("nag", nag);
    m.put("adam", adam);
    return m;
  }

  @Test
  void lowestIsYesOnlyWhenThePairedIntervalExcludesZero() {
    Report.Verdict clear = verdict("lowest", of(new double[] {1, 2, 3}, new double[] {1.5, 2.6,
        3.4}, new double[] {5, 5, 5}));
    assertEquals("yes", clear.agree(), clear.ours());
    assertTrue(clear.ours().contains("minus nag: -0.5000"), clear.ours());
    Report.Verdict tie = verdict("lowest", of(new double[] {1, 2, 3}, new double[] {0.5, 3.2,
        2.9}, new double[] {5, 5, 5}));
    assertEquals("tied", tie.agree(), tie.ours());
    Report.Verdict no = verdict("lowest", of(new double[] {4, 5, 6}, new double[] {1, 2, 3},
        new double[] {5, 5, 5}));
    assertEquals("no", no.agree(), no.ours());
    assertTrue(no.ours().contains("rank 2 of 3; lowest: nag"), no.ours());
  }

  @Test
  void aDivergedRunnerUpAndTheLastClaim() {
    Report.Verdict v = verdict("lowest", of(new double[] {1, 2, 3}, new double[] {1, 2,
        Double.POSITIVE_INFINITY}, new double[] {Double.POSITIVE_INFINITY, 1, 1}));
    assertEquals("yes", v.agree(), v.ours());
    assertTrue(v.ours().contains("diverged on some instances"), v.ours());
    assertEquals("yes", verdict("last", of(new double[] {9, 9, 9}, new double[] {1, 2, 3},
        new double[] {5, 5, 5})).agree());
    assertEquals("no", verdict("last", of(new double[] {1, 1, 1}, new double[] {1, 2, 3},
        new double[] {5, 5, 5})).agree());
  }
}
