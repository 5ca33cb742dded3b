package org.l2l.repro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.l2l.cli.Main;
import org.l2l.io.Csv;
import org.l2l.io.OptimizerFile;
import org.l2l.meta.ProblemConfig;
import org.l2l.problem.Problem;
import org.l2l.problem.QuadraticProblem;
import org.l2l.problem.Problems;

/**
 * The plain-Java LSTM forward of {@link ForgetGates} follows the graph: on the shipped quadratic
 * optimizer and evaluate's own test instances its loss after every step matches evaluate's
 * instances.csv; and the forget gates' mean activations are probabilities that move with the
 * bias.
 */
class ForgetGatesTest {

  @TempDir Path tmp;

  @Test
  void theJavaForwardMatchesEvaluateAndGivesGateMeans() throws Exception {
    Path out = tmp.resolve("eval");
    assertEquals(0, Main.execute("evaluate", "--problem", "quadratic", "--optimizer",
        "checkpoints/pretrained/quadratic", "--baselines", "none", "--instances", "2",
        "--num-steps", "20", "--seed", "7", "--out", out.toString(), "--no-tensorboard",
        "--save-instances"));
    Csv.Table t = Csv.read(out.resolve("instances.csv"));
    OptimizerFile.TrainedRule rule = OptimizerFile.read(
        Path.of("checkpoints/pretrained/quadratic/optimizer.l2lw")).single();
    Problem p = new ProblemConfig(Problems.byName("quadratic"),
        new QuadraticProblem.Config(1, 10, "gaussian")).create();
    assertTrue(ForgetGates.applies(rule, p));
    ForgetGates.Result r = ForgetGates.run(rule, p, 7, 2, 20);
    double worst = 0;
    for (int i = 0; i < 2; i++) {
      List<String> row = t.rows().get(i);
      for (int step = 0; step <= 20; step++) {
        double graph = Double.parseDouble(row.get(step + 2));
        double java = r.losses()[i][step];
        double error = Math.abs(graph - java) / Math.max(Math.abs(graph), 1e-3);
        worst = Math.max(worst, error);
        assertTrue(error < 1e-3, "instance " + i + " step " + step + ": graph " + graph
            + ", Java " + java);
      }
    }
    // The optimizer did something on these instances, so the match says something.
    assertTrue(r.losses()[0][20] < 0.5 * r.losses()[0][0], "loss fell");
    assertEquals(2, r.meanPerLayer().length);
    for (double m : r.meanPerLayer()) {
      assertTrue(m > 0 && m < 1, "a mean activation: " + m);
    }
    System.out.println("ForgetGates: largest relative loss difference " + worst
        + "; forget-gate means " + java.util.Arrays.toString(r.meanPerLayer()));
  }
}
