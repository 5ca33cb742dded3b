package org.l2l.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.l2l.cli.CliTest.assertUsageError;
import static org.l2l.cli.CliTest.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.l2l.io.Csv;
import org.l2l.io.OptimizerFile;

/**
 * The one error boundary: what a user can get wrong is one line, exit code 2, nothing written;
 * diverging meta-training is caught, and --help lists every problem's options.
 */
class BadInputTest {

  @TempDir Path tmp;

  @Test
  void aTensorBoardDirThatIsAFileFailsBeforeTheEvaluation() throws IOException {
    Path file = Files.writeString(tmp.resolve("F"), "x");
    Path out = tmp.resolve("out");
    assertUsageError("--tensorboard-dir " + file + ": " + file
        + " is a file, not a folder", "evaluate", "--baselines", "sgd", "--learning-rates",
        "sgd=0.1", "--out", out.toString(), "--tensorboard-dir", file.toString());
    assertFalse(Files.exists(out), "nothing written");
    assertEquals("x", Files.readString(file));
  }

  @Test
  void anExportThatCannotBeWrittenIsOneLine() {
    assertUsageError("--out /proc/x: cannot write in /proc", "export", "--optimizer",
        "checkpoints/pretrained/quadratic", "--out", "/proc/x");
  }

  @Test
  void rulesAndProblemOptionsAreChecked() {
    String ck = tmp.resolve("ck").toString();
    assertUsageError("--rules conv=lstm: no group conv in problem quadratic (its groups: theta)",
        "train", "--rules", "conv=lstm", "--checkpoint-dir", ck);
    assertUsageError("--rules theta=adam: adam needs its learning rate, e.g. adam:0.1",
        "train", "--rules", "theta=adam", "--checkpoint-dir", ck);
    assertUsageError("--hidden-units 40: not an option of problem quadratic (its options: "
        + "--batch-size, --dims, --distribution)", "train", "--hidden-units", "40",
        "--checkpoint-dir", ck);
    assertUsageError("--dims 3: not an option of problem simple (it has none)", "train",
        "--problem", "simple", "--dims", "3", "--checkpoint-dir", ck);
    assertUsageError("--rules x=sgd:0.1: every group of problem simple has a hand-designed "
        + "rule; leave at least one to a learned rule", "train", "--problem", "simple",
        "--rules", "x=sgd:0.1", "--checkpoint-dir", ck);
    assertUsageError("--rules x=sgd:0.1: every group", "graph", "--problem", "simple", "--rules",
        "x=sgd:0.1", "--graphs-dir", ck);
    assertUsageError("--max-bad-steps 0: must be a positive integer", "train",
        "--max-bad-steps", "0", "--checkpoint-dir", ck);
    assertFalse(Files.exists(tmp.resolve("ck")), "nothing written on bad input");
  }

  @Test
  void helpListsEveryProblemsOptions() {
    CliTest.Printed o = CliTest.runPrinting("train", "--help");
    assertEquals(0, o.code());
    String help = o.out().replaceAll("\\s+", " ");
    for (String part : List.of("--dims=N quadratic: dimension of theta (default: 10).",
        "--batch-size=N quadratic: functions per instance",
        "mnist: images per minibatch, the paper's and the official code's 128 (default: 128).",
        "--coefficients=N", "--hidden-units=N", "--data-dir=DIR",
        "--output-scale=X", "mnist, conv 0.1; otherwise 1", "--rules=GROUP=RULE",
        "mnist weights, biases; conv conv, fc", "--dataset=D", "--labels=LIST",
        "--max-bad-steps=N", "--epochs=N")) {
      assertTrue(help.contains(part), part + " in: " + help);
    }
  }

  @Test
  void divergingMetaTrainingStopsAndKeepsTheLastGoodCheckpoint() throws IOException {
    Path ck = tmp.resolve("ck");
    String[] args = {"train", "--meta-learning-rate", "1e9", "--epochs", "30",
        "--checkpoint-every", "1", "--hidden-size", "6", "--run", "nan1", "--checkpoint-dir",
        ck.toString(), "--no-tensorboard"};
    CliTest.Printed o = CliTest.runPrinting(args);
    assertEquals(3, o.code(), o.err());
    assertTrue(o.err().startsWith("l2l: meta-training diverged: 3 meta-steps in a row had a "
        + "non-finite meta-loss or meta-gradient"), o.err());
    assertEquals(1, o.err().strip().lines().count(), o.err());
    assertTrue(o.out().contains("meta-step skipped"), o.out());
    Path run = ck.resolve("nan1");
    Csv.Table bad = Csv.read(run.resolve("bad_steps.csv"));
    assertEquals(List.of("epoch", "unroll", "meta_loss", "meta_gradient_norm"), bad.header());
    assertTrue(bad.rows().size() >= 3);
    int lastEpoch = Integer.parseInt(bad.rows().get(bad.rows().size() - 1).get(0));
    Csv.Table metrics = Csv.read(run.resolve("metrics.csv"));
    assertEquals(lastEpoch - 1, metrics.rows().size(), "the diverged epoch is not recorded");
    // The last good checkpoint (the epoch before) loads, its weights are finite, and it resumes.
    assertEquals(lastEpoch > 1, Files.isDirectory(run.resolve("latest")));
    if (lastEpoch == 1) {
      return;
    }
    OptimizerFile.Loaded latest = OptimizerFile.read(run.resolve("latest/optimizer.l2lw"));
    assertEquals(lastEpoch - 1, latest.metadata().get("epoch").getAsInt());
    for (float[] v : latest.values()) {
      for (float x : v) {
        assertTrue(Float.isFinite(x));
      }
    }
    {
      // --max-bad-steps may change on resume: with room for every bad step the epoch completes.
      assertEquals(0, run("train", "--resume", run.toString(), "--epochs",
          String.valueOf(lastEpoch), "--max-bad-steps", "1000", "--no-tensorboard").code());
      assertEquals(lastEpoch, Csv.read(run.resolve("metrics.csv")).rows().size());
    }
  }
}
