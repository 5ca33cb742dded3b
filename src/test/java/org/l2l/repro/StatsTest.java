package org.l2l.repro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The report's statistics against values computed by hand. */
class StatsTest {

  @Test
  void tIntervalOfOneToFive() {
    // mean 3, sd sqrt(2.5), se sqrt(0.5); t(4, 0.975) = 2.7764451
    Stats.Interval i = Stats.tInterval(new double[] {1, 2, 3, 4, 5});
    assertEquals(3, i.mean(), 1e-12);
    assertEquals(3 - 2.7764451 * Math.sqrt(0.5), i.low(), 1e-6);
    assertEquals(3 + 2.7764451 * Math.sqrt(0.5), i.high(), 1e-6);
    assertEquals(5, i.n());
    assertFalse(i.below0());
    assertTrue(i.above0());
  }

  @Test
  void pairedDifferenceUsesThePairs() {
    double[] a = {1.0, 2.0, 3.0, 4.0};
    double[] b = {1.5, 2.4, 3.6, 4.5};
    // differences -0.5, -0.4, -0.6, -0.5: mean -0.5, sd sqrt(0.02/3); t(3, 0.975) = 3.1824463
    Stats.Interval d = Stats.pairedDifference(a, b);
    assertEquals(-0.5, d.mean(), 1e-12);
    assertEquals(-0.5 + 3.1824463 * Math.sqrt(0.02 / 3 / 4), d.high(), 1e-6);
    assertTrue(d.below0(), "unpaired, these means would not be told apart");
  }

  @Test
  void quantilesAndUndefinedIntervals() {
    double[] x = {4, 1, 3, 2};
    assertEquals(2.5, Stats.median(x), 1e-12);
    assertEquals(1.75, Stats.quantile(x, 0.25), 1e-12);
    assertEquals(3.25, Stats.quantile(x, 0.75), 1e-12);
    assertTrue(Double.isNaN(Stats.tInterval(new double[] {1}).low()), "n = 1");
    assertTrue(Double.isNaN(Stats.tInterval(new double[] {1, Double.POSITIVE_INFINITY}).high()),
        "a diverged instance");
  }

  @Test
  void theCostModelMatchesTheMeasuredTinyRun() {
    double t = Plan.stepsOf(new Plan(Scale.of("tiny")).experiments()).stream()
        .mapToDouble(Plan.Step::estimate).sum();
    System.out.printf("estimate tiny %6.0f s%n", t);
    // The cost model against the tiny scale's measured end-to-end run: 260 s on 2 cores.
    assertTrue(t > 0.7 * 260 && t < 1.3 * 260, "tiny estimate " + t + " s against 260 s");
  }

  @Test
  void quickEstimateIsTheSumOverSharedSteps() {
    Plan plan = new Plan(Scale.of("quick"));
    double total = 0;
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (Plan.Experiment e : plan.experiments()) {
      double s = 0;
      for (Plan.Step step : e.steps()) {
        if (seen.add(step.id())) {
          s += step.estimate();
        }
      }
      total += s;
      System.out.printf("estimate %-16s %6.0f s%n", e.name(), s);
    }
    System.out.printf("estimate total %6.0f s%n", total);
    // Break-even has no steps of its own: it reads those of the quadratic and MNIST experiments.
    assertEquals(Plan.stepsOf(plan.experiments()).stream().mapToDouble(Plan.Step::estimate)
        .sum(), total, 1e-9);
  }
}
