package org.l2l.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.l2l.io.OptimizerFile;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.Preprocessing;

/** {@code l2l export}: what it writes, and its refusals (exit code 2, one line). */
class ExportCommandTest {

  @TempDir Path tmp;

  /** A run folder holding a (random) small optimizer as best/optimizer.l2lw. */
  private Path run() throws IOException {
    CoordinatewiseLstm lstm = new CoordinatewiseLstm(
        new CoordinatewiseLstm.Config(2, 6, 1.0, 0.1, Preprocessing.LOG_AND_SIGN_PAPER, 10));
    Path run = tmp.resolve("ck/run");
    Files.createDirectories(run.resolve("best"));
    OptimizerFile.write(run.resolve("best").resolve(OptimizerFile.FILE_NAME), lstm,
        lstm.initialValues(new SplittableRandom(1)), null);
    return run;
  }

  @Test
  void exportsRunFolderAndRefusesNonEmptyOutUnlessForced() throws IOException {
    Path run = run();
    Path out = tmp.resolve("export");
    assertEquals(0, CliTest.run("export", "--optimizer", run.toString(), "--out",
        out.toString()).code());
    assertTrue(Files.isRegularFile(out.resolve("saved_model.pb")));
    assertTrue(Files.isRegularFile(out.resolve("README.md")));
    assertArrayEquals(Files.readAllBytes(run.resolve("best/optimizer.l2lw")),
        Files.readAllBytes(out.resolve("optimizer.l2lw")));
    assertEquals(out.resolve("optimizer.l2lw"), OptimizerFile.resolve(out),
        "an export folder is itself a valid --optimizer / LearnedOptimizer.load path");
    String[] siblings = tmp.toFile().list();
    Arrays.sort(siblings);
    assertArrayEquals(new String[] {"ck", "export"}, siblings, "no temporary folder left");

    Files.writeString(out.resolve("mine.txt"), "keep");
    CliTest.assertUsageError("--out " + out + ": exists and is not empty; use --force to replace it",
        "export", "--optimizer", run.toString(), "--out", out.toString());
    assertTrue(Files.exists(out.resolve("mine.txt")), "nothing overwritten");

    assertEquals(0, CliTest.run("export", "--optimizer", run.toString(), "--out",
        out.toString(), "--force").code());
    assertFalse(Files.exists(out.resolve("mine.txt")), "--force replaces the folder");
    assertTrue(Files.isRegularFile(out.resolve("saved_model.pb")));

    // An existing empty folder is fine without --force.
    Path empty = tmp.resolve("empty");
    Files.createDirectories(empty);
    assertEquals(0, CliTest.run("export", "--optimizer",
        run.resolve("best/optimizer.l2lw").toString(), "--out", empty.toString()).code());
    assertTrue(Files.isRegularFile(empty.resolve("saved_model.pb")));
  }

  @Test
  void missingOrCorruptOptimizerAndBadOutAreClearErrors() throws IOException {
    Path out = tmp.resolve("o");
    CliTest.assertUsageError("--optimizer " + tmp.resolve("nope") + ": " + tmp.resolve("nope")
        + ": no such file or folder", "export", "--optimizer", tmp.resolve("nope").toString(),
        "--out", out.toString());
    Files.createDirectories(tmp.resolve("empty"));
    CliTest.assertUsageError("holds no trained optimizer", "export", "--optimizer",
        tmp.resolve("empty").toString(), "--out", out.toString());
    Path junk = tmp.resolve("junk.l2lw");
    Files.write(junk, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    CliTest.assertUsageError("junk.l2lw", "export", "--optimizer", junk.toString(), "--out",
        out.toString());
    Path run = run();
    Path file = run.resolve("best/optimizer.l2lw");
    byte[] bytes = Files.readAllBytes(file);
    Path truncated = tmp.resolve("truncated.l2lw");
    Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 10));
    CliTest.assertUsageError("truncated.l2lw", "export", "--optimizer", truncated.toString(), "--out",
        out.toString());
    assertFalse(Files.exists(out), "nothing written on bad input");

    Path aFile = tmp.resolve("a-file");
    Files.writeString(aFile, "x");
    CliTest.assertUsageError("--out " + aFile + ": exists and is not a folder", "export",
        "--optimizer", run.toString(), "--out", aFile.toString());
    CliTest.assertUsageError("--out " + aFile.resolve("sub") + ": " + aFile
        + " is a file, not a folder",
        "export", "--optimizer", run.toString(), "--out", aFile.resolve("sub").toString());
    CliTest.assertUsageError("contains the optimizer being exported", "export", "--optimizer",
        run.toString(), "--out", run.toString(), "--force");
    assertTrue(Files.isRegularFile(file), "the run folder is untouched");
    CliTest.assertUsageError("--out", "export", "--optimizer", run.toString());
  }
}
