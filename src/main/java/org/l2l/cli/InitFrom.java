package org.l2l.cli;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.l2l.io.FormatException;
import org.l2l.io.OptimizerFile;
import org.l2l.meta.Checkpoint;
import org.l2l.meta.RunConfig;
import org.l2l.meta.Unroll;

/**
 * {@code train --init-from}: where a run's starting weights came from (config.json's
 * {@code init_from}), and Adam's state carried over from the checkpoint beside the file.
 */
final class InitFrom {

  private InitFrom() {}

  /** The record of a start from {@code file}: its path, SHA-256 and epoch. */
  static JsonObject record(Path file, OptimizerFile.Loaded loaded) {
    JsonObject record = new JsonObject();
    record.addProperty("file", file.toString());
    record.addProperty("sha256", sha256(file));
    if (loaded.metadata().has("epoch")) {
      record.add("epoch", loaded.metadata().get("epoch"));
    }
    return record;
  }

  /**
   * Sets the unroll's weights from {@code init} and restores the meta-optimizer's state (Adam's
   * moments and step counter) from the checkpoint that holds the file, when there is one and it
   * was written for the same problem, LSTM and rules (so the same variables); returns the run's
   * init_from record saying what happened.
   */
  static JsonObject start(Unroll unroll, RunConfig config, OptimizerFile.Loaded init) {
    JsonObject record = config.initFrom().deepCopy();
    Path folder = Path.of(record.get("file").getAsString()).getParent();
    String reason = null;
    if (folder == null || !Files.isRegularFile(folder.resolve(Checkpoint.INDEX))) {
      reason = "no checkpoint beside the file";
    } else {
      try {
        JsonObject saved = Checkpoint.readIdentity(folder);
        JsonObject mine = config.identity();
        if (!mine.get("problem").equals(saved.get("problem"))
            || !mine.get("lstm").equals(saved.get("lstm"))
            || !mine.get("rules").equals(saved.get("rules"))) {
          reason = "its checkpoint was written for another problem, LSTM or rules";
        } else if (!mine.getAsJsonObject("training").get("meta_optimizer").equals(
            saved.getAsJsonObject("training").get("meta_optimizer"))) {
          reason = "its checkpoint was written with another --meta-optimizer";
        } else {
          Checkpoint.restore(folder, unroll);
        }
      } catch (FormatException e) {
        reason = e.getMessage();
      }
    }
    List<float[]> slots = unroll.metaOptimizerValues();
    float step = slots.isEmpty() ? 0 : slots.get(slots.size() - 1)[0];
    if (reason == null) {
      record.addProperty("adam", "carried over");
      record.addProperty("adam_step", (long) step);
      System.out.printf(Locale.ROOT, "--init-from: Adam's moments and step counter (%d) carried "
          + "over from %s%n", (long) step, folder);
    } else {
      record.addProperty("adam", "zero (" + reason + ")");
      System.out.printf(Locale.ROOT, "--init-from: Adam's moments start at zero (%s)%n", reason);
    }
    // The weights last: restoring the checkpoint above also restored the weights it holds.
    unroll.setMetaParamValues(init);
    return record;
  }

  private static String sha256(Path file) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(Files.readAllBytes(file)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
