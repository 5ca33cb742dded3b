package org.l2l.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.l2l.io.OptimizerFile;

/** {@code train --init-from}: a run that starts from a trained optimizer's weights. */
class InitFromTest {

  @TempDir Path tmp;

  private String[] train(String run, String... extra) {
    List<String> args = new ArrayList<>(List.of("train", "--problem", "quadratic",
        "--num-steps", "20", "--unroll-length", "10", "--eval-every", "1",
        "--eval-instances", "2", "--run", run, "--checkpoint-dir",
        tmp.resolve("ck").toString(), "--tensorboard-dir", tmp.resolve("tb").toString()));
    args.addAll(List.of(extra));
    for (String[] d : new String[][] {{"--epochs", "2"}, {"--seed", "5"}}) {
      if (!args.contains(d[0])) {
        args.addAll(List.of(d));
      }
    }
    return args.toArray(String[]::new);
  }

  private static void ok(String... args) {
    CliTest.Outcome o = CliTest.run(args);
    assertEquals(0, o.code(), o.err());
  }

  @Test
  @Tag("slow")
  void startsFromTheFileAndRecordsIt() throws Exception {
    ok(train("source", "--hidden-size", "6"));
    Path source = tmp.resolve("ck/source/best/optimizer.l2lw");
    // A learning rate so small that the meta-steps cannot move a float32 weight: what the new
    // run saves is then the file it started from. Another seed would give other weights.
    ok(train("tuned", "--init-from", tmp.resolve("ck/source").toString(),
        "--seed", "9", "--meta-learning-rate", "1e-30"));
    OptimizerFile.Loaded from = OptimizerFile.read(source);
    OptimizerFile.Loaded to = OptimizerFile.read(tmp.resolve("ck/tuned/latest/optimizer.l2lw"));
    assertEquals(6, ((org.l2l.rule.CoordinatewiseLstm.Config) to.single().rule().config()).hiddenSize(), "the LSTM settings come from the file");
    assertEquals(from.values().size(), to.values().size());
    for (int i = 0; i < from.values().size(); i++) {
      float[] a = from.values().get(i);
      float[] b = to.values().get(i);
      assertEquals(a.length, b.length);
      for (int j = 0; j < a.length; j++) {
        assertEquals(a[j], b[j], 1e-20f, "tensor " + i + " element " + j);
      }
    }
    JsonObject config = JsonParser.parseString(
        Files.readString(tmp.resolve("ck/tuned/config.json"))).getAsJsonObject();
    JsonObject init = config.getAsJsonObject("init_from");
    assertEquals(source.toString(), init.get("file").getAsString());
    assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(Files.readAllBytes(source))), init.get("sha256").getAsString());
    assertEquals(6, config.getAsJsonObject("lstm").get("hidden_size").getAsInt());
    // The source's checkpoint is beside the file: Adam's state carries over, its step counter
    // at 2 epochs of 2 unrolls.
    assertEquals("carried over", init.get("adam").getAsString());
    assertEquals(4, init.get("adam_step").getAsInt());
    // The fine-tuning run resumes like any other.
    ok("train", "--resume", tmp.resolve("ck/tuned").toString(), "--epochs", "3",
        "--tensorboard-dir", tmp.resolve("tb").toString());

    // A bare .l2lw file has no checkpoint beside it: the moments start at zero.
    Path bare = Files.copy(source, tmp.resolve("bare.l2lw"));
    ok(train("fromfile", "--init-from", bare.toString(), "--seed", "9"));
    JsonObject init2 = JsonParser.parseString(Files.readString(
        tmp.resolve("ck/fromfile/config.json"))).getAsJsonObject().getAsJsonObject("init_from");
    assertEquals("zero (no checkpoint beside the file)", init2.get("adam").getAsString());

    // Without --init-from the same flags start from random weights.
    ok(train("fresh", "--hidden-size", "6", "--seed", "9",
        "--meta-learning-rate", "1e-30"));
    float[] fresh = OptimizerFile.read(tmp.resolve("ck/fresh/latest/optimizer.l2lw"))
        .values().get(0);
    float maxDiff = 0;
    for (int j = 0; j < fresh.length; j++) {
      maxDiff = Math.max(maxDiff, Math.abs(fresh[j] - from.values().get(0)[j]));
    }
    assertTrue(maxDiff > 1e-3, "random start differs: " + maxDiff);
  }

  @Test
  void badInitFromIsOneLine() throws IOException {
    CliTest.assertUsageError("--init-from " + tmp.resolve("nowhere") + ": ",
        train("a", "--init-from", tmp.resolve("nowhere").toString()));
    Path junk = Files.writeString(tmp.resolve("junk.l2lw"), "not weights");
    CliTest.assertUsageError("--init-from " + junk + ": ", train("a", "--init-from", junk.toString()));
    assertFalse(Files.exists(tmp.resolve("ck/a")), "nothing written on bad input");

    ok(train("source", "--hidden-size", "6", "--epochs", "1"));
    String source = tmp.resolve("ck/source").toString();
    CliTest.assertUsageError("--hidden-size 8 (the file's: 6)",
        train("b", "--init-from", source, "--hidden-size", "8"));
    CliTest.assertUsageError("--init-from",
        "train", "--resume", source, "--init-from", source);
    assertFalse(Files.exists(tmp.resolve("ck/b")), "nothing written on bad input");
  }
}
