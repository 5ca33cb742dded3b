package org.l2l.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.l2l.io.Csv;

/** The command line end to end at small sizes: outputs, determinism and bad input. */
class CliTest {

  @TempDir Path tmp;

  /** Exit code and standard error of one command. */
  record Outcome(int code, String err) {}

  static Outcome run(String... args) {
    StringWriter err = new StringWriter();
    int code = Main.execute(new PrintWriter(err, true), args);
    return new Outcome(code, err.toString());
  }

  /** Exit code, standard error and standard output of one command. */
  record Printed(int code, String err, String out) {}

  /** Runs one command with standard output captured. */
  static Printed runPrinting(String... args) {
    java.io.PrintStream console = System.out;
    java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
    Outcome o;
    try {
      System.setOut(new java.io.PrintStream(printed, true,
          java.nio.charset.StandardCharsets.UTF_8));
      o = run(args);
    } finally {
      System.setOut(console);
    }
    return new Printed(o.code(), o.err(), printed.toString(java.nio.charset.StandardCharsets.UTF_8));
  }

  private String[] train(String run, String... extra) {
    List<String> args = new java.util.ArrayList<>(List.of("train", "--problem", "quadratic",
        "--epochs", "4", "--num-steps", "20", "--unroll-length", "10", "--eval-every", "2",
        "--eval-instances", "3", "--hidden-size", "6", "--seed", "5", "--run", run,
        "--checkpoint-dir", tmp.resolve("ck").toString(), "--tensorboard-dir",
        tmp.resolve("tb").toString()));
    args.addAll(List.of(extra));
    return args.toArray(String[]::new);
  }

  @Test
  void trainWritesRunFolderAndIsByteIdenticalForTheSameSeed() throws IOException {
    assertEquals(0, run(train("a")).code());
    assertEquals(0, run(train("b")).code());
    Path a = tmp.resolve("ck/a");
    Path b = tmp.resolve("ck/b");
    Csv.Table metrics = Csv.read(a.resolve("metrics.csv"));
    assertEquals(List.of("epoch", "meta_loss", "final_loss", "meta_gradient_norm",
        "validation_loss"), metrics.header());
    assertEquals(4, metrics.rows().size());
    assertEquals("", metrics.rows().get(0).get(4));
    assertFalse(metrics.rows().get(1).get(4).isEmpty());
    assertArrayEquals(Files.readAllBytes(a.resolve("metrics.csv")),
        Files.readAllBytes(b.resolve("metrics.csv")));
    assertArrayEquals(Files.readAllBytes(a.resolve("best/optimizer.l2lw")),
        Files.readAllBytes(b.resolve("best/optimizer.l2lw")));
    assertTrue(Files.isRegularFile(a.resolve("latest/optimizer.l2lw")));
    String config = Files.readString(a.resolve("config.json"));
    assertTrue(config.contains("\"unroll_length\": 10"), config);
    assertTrue(config.contains("\"seed\": 5"), config);
    // --lstm-kernel auto: the step kernel where Maven built the library (Linux x86-64).
    String expected = org.l2l.tf.FusedLstm.available() ? "step" : "stock";
    assertTrue(config.contains("\"lstm_kernel\": \"" + expected + "\""), config);
  }

  @Test
  @Tag("slow")
  void evaluateWritesCurvesForEveryOptimizer() throws IOException {
    assertEquals(0, run(train("e")).code());
    Path out = tmp.resolve("res");
    Printed o = runPrinting("evaluate", "--problem", "quadratic", "--optimizer",
          tmp.resolve("ck/e").toString(), "--baselines", "sgd,adam", "--learning-rates",
          "sgd=0.01", "--num-steps", "20", "--instances", "3", "--tuning-instances", "2",
          "--seed", "7", "--out", out.toString(), "--no-tensorboard");
    String table = o.out();
    assertEquals(0, o.code(), o.err());
    Csv.Table losses = Csv.read(out.resolve("losses.csv"));
    assertEquals(List.of("optimizer", "step", "mean_loss", "median_loss"), losses.header());
    assertEquals(3 * 21, losses.rows().size());
    assertEquals(List.of("l2l", "sgd", "adam"),
        losses.column("optimizer").stream().distinct().toList());
    assertEquals("20", losses.rows().get(20).get(1));
    // The printed table ends with the mean over the last 10 steps, from the same curves.
    assertTrue(table.contains("mean@11-20"), table);
    double window = 0;
    for (int step = 11; step <= 20; step++) {
      window += Double.parseDouble(losses.rows().get(step).get(2));
    }
    String row = table.lines().filter(l -> l.startsWith("l2l ")).findFirst().orElseThrow();
    String[] cells = row.trim().split("\\s+");
    assertEquals(window / 10, Double.parseDouble(cells[cells.length - 1]),
        1e-5 * Math.abs(window / 10), row);
    // The tuning table: adam tried every grid value; sgd was given.
    Csv.Table tuning = Csv.read(out.resolve("tuning.csv"));
    assertEquals(15, tuning.rows().size());
    assertTrue(Files.size(out.resolve("losses.png")) > 1000);
    // The same seed gives the same instances, so the same numbers.
    Path again = tmp.resolve("res2");
    run("evaluate", "--problem", "quadratic", "--optimizer", tmp.resolve("ck/e").toString(),
        "--baselines", "sgd,adam", "--learning-rates", "sgd=0.01", "--num-steps", "20",
        "--instances", "3", "--tuning-instances", "2", "--seed", "7", "--out", again.toString(),
        "--no-tensorboard");
    assertArrayEquals(Files.readAllBytes(out.resolve("losses.csv")),
        Files.readAllBytes(again.resolve("losses.csv")));
  }

  /** Asserts exit code 2 and one line of standard error, with no exception, naming the problem. */
  static void assertUsageError(String expectedPart, String... args) {
    Outcome o = run(args);
    assertEquals(2, o.code(), o.err());
    assertTrue(o.err().contains(expectedPart), o.err());
    assertEquals(1, o.err().strip().lines().count(), "one line: " + o.err());
    assertFalse(o.err().contains("Exception"), o.err());
  }

  @Test
  void badInputIsOneLineWithExitCodeTwo() {
    String ck = tmp.resolve("bad").toString();
    assertUsageError("--problem cubic: unknown; allowed: quadratic, polynomial, simple",
        "train", "--problem", "cubic", "--checkpoint-dir", ck);
    assertUsageError("--epochs 0: must be a positive integer",
        "train", "--epochs", "0", "--checkpoint-dir", ck);
    assertUsageError("--epochs", "train", "--epochs", "2.5", "--checkpoint-dir", ck);
    assertUsageError("--unroll-length 200: longer than the horizon --num-steps 100",
        "train", "--unroll-length", "200", "--checkpoint-dir", ck);
    assertUsageError("--unroll-length 30: must divide --num-steps 100",
        "train", "--unroll-length", "30", "--checkpoint-dir", ck);
    assertUsageError("--preprocess log: unknown; allowed: none, log-and-sign, log-and-sign-paper",
        "train", "--preprocess", "log", "--checkpoint-dir", ck);
    assertUsageError("--baselines adagrad: unknown; allowed: sgd, nag, rmsprop, adam",
        "evaluate", "--baselines", "adagrad", "--out", ck);
    assertUsageError("--instances -3: must be a positive integer",
        "evaluate", "--instances", "-3", "--out", ck);
    assertUsageError("--activation tanh: unknown; allowed: sigmoid, relu",
        "train", "--problem", "mnist", "--activation", "tanh", "--checkpoint-dir", ck);
    assertUsageError("--hidden-units 0: must be a positive integer",
        "evaluate", "--problem", "mnist", "--hidden-units", "0", "--out", ck);
    assertUsageError("--batch-size 0: must be a positive integer",
        "train", "--problem", "mnist", "--batch-size", "0", "--checkpoint-dir", ck);
    assertUsageError("--lstm-kernel cuda: unknown; allowed: auto, step, xla, fused, stock",
        "train", "--lstm-kernel", "cuda", "--checkpoint-dir", ck);
    assertUsageError("--lstm-kernel cuda: unknown; allowed: auto, step, xla, fused, stock",
        "benchmark", "--lstm-kernel", "cuda");
    assertFalse(Files.exists(tmp.resolve("bad")), "nothing written on bad input");
  }

  @Test
  void mnistDataFolderThatCannotBeCreatedIsOneLine() throws IOException {
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    assertUsageError("cannot create data directory", "evaluate", "--problem", "mnist",
        "--data-dir", file.resolve("mnist").toString(), "--baselines", "sgd",
        "--learning-rates", "sgd=0.1", "--out", tmp.resolve("out").toString());
  }

  @Test
  void missingOrCorruptOptimizerIsAClearError() throws IOException {
    assertUsageError("no such file or folder", "evaluate", "--optimizer",
        tmp.resolve("nope").toString(), "--out", tmp.resolve("o").toString());
    Files.createDirectories(tmp.resolve("empty"));
    assertUsageError("holds no trained optimizer", "evaluate", "--optimizer",
        tmp.resolve("empty").toString(), "--out", tmp.resolve("o").toString());
    Path junk = tmp.resolve("junk.l2lw");
    Files.write(junk, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    assertUsageError("junk.l2lw", "evaluate", "--optimizer", junk.toString(), "--out",
        tmp.resolve("o").toString());
    assertFalse(Files.exists(tmp.resolve("o")));
  }

  @Test
  void unwritableOutputIsAClearError() throws IOException {
    Path file = tmp.resolve("a-file");
    Files.writeString(file, "x");
    assertUsageError("--out " + file.resolve("sub") + ": " + file + " is a file, not a folder",
        "evaluate", "--baselines", "sgd", "--out", file.resolve("sub").toString());
    assertUsageError("--checkpoint-dir", "train", "--checkpoint-dir", file.toString(),
        "--epochs", "1");
    assertEquals("x", Files.readString(file));
  }

  @Test
  void existingRunIsNotOverwrittenWithoutForce() throws IOException {
    assertEquals(0, run(train("keep")).code());
    byte[] before = Files.readAllBytes(tmp.resolve("ck/keep/metrics.csv"));
    assertUsageError("already exists", train("keep"));
    assertArrayEquals(before, Files.readAllBytes(tmp.resolve("ck/keep/metrics.csv")));
  }
}
