package org.l2l.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.l2l.data.MnistData;
import org.l2l.problem.Instance;
import org.l2l.problem.MnistProblem;
import org.l2l.problem.PolynomialProblem;
import org.l2l.problem.Problem;
import org.l2l.problem.QuadraticProblem;
import org.l2l.problem.SimpleProblem;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.Preprocessing;

/**
 * With --second-derivatives the meta-gradient is the plain derivative of the meta-loss (no
 * StopGradient): it must equal central finite differences of the meta-loss itself, which the
 * first-order (StopGradient) meta-gradient does not.
 */
class SecondDerivativesTest {

  private static final int U = 4;

  static MnistData tinyData() {
    return org.l2l.problem.MnistProblemTest.tinyData(30, 6, 21);
  }

  private static double metaLoss(Unroll u, Instance inst, List<float[]> phi) {
    u.setMetaParamValues(phi);
    u.reset(inst);
    return u.run(inst, 0).metaLoss();
  }

  /**
   * Checks the largest components of each meta-gradient tensor; returns the largest relative
   * deviation of the first-order meta-gradient from the same finite differences.
   */
  private static double check(Problem problem, CoordinatewiseLstm lstm, long instanceSeed) {
    Instance inst = problem.sample(new SplittableRandom(instanceSeed));
    List<float[]> analytic;
    List<float[]> firstOrder;
    List<float[]> phi;
    try (Unroll u = new Unroll(problem, lstm, new Unroll.Options(U, false, false, 0.001, 0, 4,
        1))) {
      u.reset(inst);
      firstOrder = u.metaGradient(inst, 0);
    }
    double worstFirstOrder = 0;
    double worstSecondOrder = 0;
    try (Unroll u = new Unroll(problem, lstm, new Unroll.Options(U, true, false, 0.001, 0, 4,
        1))) {
      u.reset(inst);
      analytic = u.metaGradient(inst, 0);
      phi = u.metaParamValues();
      double eps = 1e-2;
      int checked = 0;
      for (int p = 0; p < phi.size(); p++) {
        for (int k : FiniteDifferences.largest(analytic.get(p), 2)) {
          List<float[]> plus = FiniteDifferences.copy(phi);
          plus.get(p)[k] += (float) eps;
          List<float[]> minus = FiniteDifferences.copy(phi);
          minus.get(p)[k] -= (float) eps;
          double fd = (metaLoss(u, inst, plus) - metaLoss(u, inst, minus)) / (2 * eps);
          double a = analytic.get(p)[k];
          assertTrue(Double.isFinite(a));
          assertEquals(fd, a, 0.01 * Math.abs(fd) + 1e-3,
              problem.name() + " " + lstm.paramNames().get(p) + "[" + k + "]");
          worstSecondOrder = Math.max(worstSecondOrder, Math.abs(a - fd) / (Math.abs(fd) + 1e-3));
          worstFirstOrder = Math.max(worstFirstOrder,
              Math.abs(firstOrder.get(p)[k] - fd) / (Math.abs(fd) + 1e-3));
          checked++;
        }
      }
      assertEquals(2 * phi.size() - 1, checked); // the output bias has one entry
    }
    System.out.printf("%s: worst relative deviation from finite differences: second-order "
        + "meta-gradient %.3g, first-order %.3g%n", problem.name(), worstSecondOrder,
        worstFirstOrder);
    return worstFirstOrder;
  }

  private static CoordinatewiseLstm lstm(Preprocessing pre, double scale) {
    return new CoordinatewiseLstm(new CoordinatewiseLstm.Config(2, 4, 1.0, scale, pre, 10));
  }

  @Test
  void mnistSigmoidMetaGradientMatchesFiniteDifferencesOfTheMetaLoss() {
    MnistData data = tinyData();
    Problem p = new MnistProblem(4, 1, MnistProblem.Activation.SIGMOID, 8, 6, () -> data);
    double firstOrderError = check(p, lstm(Preprocessing.LOG_AND_SIGN_PAPER, 0.5), 3);
    assertTrue(firstOrderError > 0.03,
        "the StopGradient meta-gradient misses the second-order terms: " + firstOrderError);
  }

  @Test
  void quadraticMetaGradientMatchesFiniteDifferencesOfTheMetaLoss() {
    Problem p = new QuadraticProblem(1, 3, QuadraticProblem.Distribution.GAUSSIAN, 0.01);
    double firstOrderError = check(p, lstm(Preprocessing.NONE, 1.0), 9);
    assertTrue(firstOrderError > 0.03,
        "the StopGradient meta-gradient misses the second-order terms: " + firstOrderError);
  }

  @Test
  void everyProblemBuildsWithSecondDerivatives() {
    MnistData data = tinyData();
    List<Problem> problems = new ArrayList<>(List.of(new SimpleProblem(),
        new PolynomialProblem(4, 8, 0.1),
        new MnistProblem(3, 2, MnistProblem.Activation.RELU, 5, 6, () -> data),
        new MnistProblem(3, 1, MnistProblem.Activation.SIGMOID, 5, 6, () -> data)));
    for (Problem p : problems) {
      try (Unroll u = new Unroll(p, lstm(Preprocessing.LOG_AND_SIGN, 0.1),
          new Unroll.Options(2, true, false, 0.001, 0, 1, 1))) {
        Instance inst = p.sample(new SplittableRandom(1));
        u.reset(inst);
        List<float[]> g = u.metaGradient(inst, 0);
        double norm = 0;
        for (float[] t : g) {
          for (float v : t) {
            assertTrue(Float.isFinite(v), p.name());
            norm += v * v;
          }
        }
        assertTrue(norm > 0, p.name() + ": a non-zero meta-gradient");
        assertTrue(Float.isFinite(u.train(inst, 0).metaLoss()), p.name());
      }
    }
  }
}
