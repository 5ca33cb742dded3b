package org.l2l.problem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.l2l.cli.Main;
import org.l2l.io.Csv;
import org.l2l.io.OptimizerFile;
import org.l2l.meta.Unroll;
import org.l2l.rule.Rules;

/**
 * The official code's simple-multi: two scalars, each a parameter group, so that one can be
 * optimized by a learned rule and the other by Adam.
 */
class SimpleMultiProblemTest {

  @TempDir Path tmp;

  @Test
  void twoScalarGroupsStartingAtOne() {
    Problem p = SimpleMultiProblem.TYPE.create(SimpleMultiProblem.TYPE.defaults(),
        ProblemType.Context.QUIET);
    assertEquals("simple-multi", p.name());
    assertEquals(List.of("x0", "x1"), p.params().stream().map(ParamSpec::group).toList());
    assertArrayEquals(new float[] {1, 1}, p.sample(new SplittableRandom(1)).initialTheta());
    // f = x0^2 + x1^2; plain gradient descent at 0.1 scales both by 0.8 per step.
    try (Unroll u = new Unroll(p, Rules.baseline("sgd", 0.1), Unroll.Options.evaluation(2, 1))) {
      Instance inst = p.sample(new SplittableRandom(1));
      u.reset(inst);
      float[] losses = u.run(inst, 0).losses();
      assertArrayEquals(new float[] {2f, 2 * 0.64f, 2 * 0.4096f}, losses, 1e-6f);
    }
  }

  @Test
  void theOfficialSplitTrainsTheLstmOnXZeroAndAdamOnXOne() throws Exception {
    Path ck = tmp.resolve("ck");
    PrintStream console = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    int train;
    int evaluate;
    try {
      System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
      train = Main.execute("train", "--problem", "simple-multi", "--rules",
          "x0=lstm,x1=adam:0.1", "--epochs", "20", "--num-steps", "20", "--eval-every", "10",
          "--eval-instances", "2", "--hidden-size", "6", "--run", "sm", "--checkpoint-dir",
          ck.toString(), "--no-tensorboard");
      evaluate = Main.execute("evaluate", "--problem", "simple-multi", "--optimizer",
          ck.resolve("sm").toString(), "--baselines", "adam", "--learning-rates", "adam=0.1",
          "--num-steps", "20", "--instances", "2", "--out", tmp.resolve("res").toString(),
          "--no-tensorboard");
    } finally {
      System.setOut(console);
    }
    assertEquals(0, train, printed.toString(StandardCharsets.UTF_8));
    assertEquals(0, evaluate, printed.toString(StandardCharsets.UTF_8));
    OptimizerFile.Loaded file = OptimizerFile.read(ck.resolve("sm/best/optimizer.l2lw"));
    assertEquals(List.of("lstm_x0"), file.learned().stream().map(r -> r.scope()).toList());
    assertEquals("adam:0.1", file.rules().assignments().get("x1"));
    Csv.Table losses = Csv.read(tmp.resolve("res/losses.csv"));
    assertEquals(List.of("l2l", "adam"), losses.rows().stream().map(r -> r.get(0)).distinct()
        .toList());
    assertTrue(Files.readString(ck.resolve("sm/config.json")).contains("\"x1\": \"adam:0.1\""));
  }
}
