package org.l2l.meta;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.l2l.io.AtomicFiles;
import org.l2l.io.FormatException;
import org.l2l.io.OptimizerFile;
import org.l2l.rule.RuleMap;
import org.tensorflow.exceptions.TensorFlowException;

/**
 * A checkpoint of meta-training: everything needed to continue bit-identically.
 *
 * <p>A checkpoint folder holds a TensorFlow checkpoint ({@code ckpt.index} and
 * {@code ckpt.data-00000-of-00001}) of every variable of the unroll's graph (the LSTM's weights
 * phi, the meta-optimizer's Adam moments and step counter, the carried optimizee parameters and
 * LSTM state), {@code state.json} (epoch counter, best validation loss, seed and the settings
 * that shape the graph) and {@code optimizer.l2lw} (phi alone, for evaluation and export).
 * Instances are derived from (seed, epoch), so the epoch counter is the random generator's whole
 * state. Folders are replaced atomically: a kill at any moment leaves the previous checkpoint
 * whole.
 */
public final class Checkpoint {

  /** Prefix of the TensorFlow checkpoint files inside the folder. */
  public static final String PREFIX = "ckpt";
  /** TensorFlow's index file. */
  public static final String INDEX = PREFIX + ".index";
  /** TensorFlow's data file (one shard). */
  public static final String DATA = PREFIX + ".data-00000-of-00001";
  /** The counters and identity of the run. */
  public static final String STATE = "state.json";
  /** Version of state.json's layout. */
  public static final int FORMAT = 1;

  /**
   * The counters of a checkpoint.
   *
   * @param epoch epochs completed
   * @param bestValidationLoss best validation loss so far (+infinity before any evaluation)
   * @param bestEpoch the epoch of that loss (0 before any evaluation)
   * @param identity what the graph must match: problem, LSTM, unroll settings (from config.json)
   */
  public record State(int epoch, double bestValidationLoss, int bestEpoch, JsonObject identity) {}

  private Checkpoint() {}

  /** Writes a checkpoint of {@code unroll} into {@code folder}, replacing it atomically. */
  public static void save(Path folder, Unroll unroll, RuleMap rules, State state,
      JsonObject optimizerMetadata) throws IOException {
    java.util.List<float[]> phi = unroll.metaParamValues();
    AtomicFiles.replaceDirectory(folder, tmp -> {
      try {
        unroll.session().save(tmp.resolve(PREFIX).toString());
      } catch (TensorFlowException e) {
        throw new IOException("TensorFlow could not write the checkpoint: " + firstLine(e), e);
      }
      OptimizerFile.write(tmp.resolve(OptimizerFile.FILE_NAME), rules, unroll.learnedRules(), phi,
          optimizerMetadata);
      JsonObject o = new JsonObject();
      o.addProperty("format", FORMAT);
      o.addProperty("epoch", state.epoch());
      if (Double.isFinite(state.bestValidationLoss())) {
        o.addProperty("best_validation_loss", state.bestValidationLoss());
      }
      o.addProperty("best_epoch", state.bestEpoch());
      o.add("identity", state.identity());
      AtomicFiles.writeString(tmp.resolve(STATE),
          new GsonBuilder().setPrettyPrinting().create().toJson(o) + "\n");
    });
  }

  /**
   * Reads a checkpoint's state and checks that it belongs to a run of {@code identity} (format 1
   * identities converted, {@link RunConfig#identityOf}); nothing is changed. Errors are one-line
   * {@link FormatException}s naming the folder.
   */
  public static State read(Path folder, JsonObject identity) {
    if (!Files.isDirectory(folder)) {
      throw FormatException.of(folder, "no checkpoint here (the folder is missing)");
    }
    for (String f : new String[] {STATE, INDEX, DATA}) {
      if (!Files.isRegularFile(folder.resolve(f))) {
        throw FormatException.of(folder, "incomplete checkpoint: " + f + " is missing");
      }
    }
    JsonObject o = readState(folder);
    if (!o.has("format") || o.get("format").getAsInt() != FORMAT || !o.has("epoch")
        || !o.has("identity")) {
      throw FormatException.of(folder.resolve(STATE), "not a checkpoint state of format "
          + FORMAT);
    }
    JsonObject saved = RunConfig.identityOf(o.getAsJsonObject("identity"), folder.resolve(STATE));
    if (!saved.equals(identity)) {
      throw FormatException.of(folder, "incompatible checkpoint: it was written for "
          + Configs.differences(saved, identity, "checkpoint", "run"));
    }
    return new State(o.get("epoch").getAsInt(), o.has("best_validation_loss")
        ? o.get("best_validation_loss").getAsDouble() : Double.POSITIVE_INFINITY,
        o.get("best_epoch").getAsInt(), saved);
  }

  /**
   * The identity (problem, LSTM and unroll settings) a checkpoint was written for, without
   * checking it against a run; a missing or unreadable state is a {@link FormatException}.
   */
  public static JsonObject readIdentity(Path folder) {
    JsonObject o = readState(folder);
    if (!o.has("identity") || !o.get("identity").isJsonObject()) {
      throw FormatException.of(folder.resolve(STATE), "not a checkpoint state of format "
          + FORMAT);
    }
    return RunConfig.identityOf(o.getAsJsonObject("identity"), folder.resolve(STATE));
  }

  /** state.json of the checkpoint in {@code folder} as JSON; unreadable is a FormatException. */
  private static JsonObject readState(Path folder) {
    try {
      return JsonParser.parseString(Files.readString(folder.resolve(STATE))).getAsJsonObject();
    } catch (IOException | RuntimeException e) {
      throw FormatException.of(folder.resolve(STATE), "unreadable (" + e.getMessage() + ")");
    }
  }

  /** Restores every variable of {@code unroll} from the checkpoint in {@code folder}. */
  public static void restore(Path folder, Unroll unroll) {
    try {
      unroll.session().restore(folder.resolve(PREFIX).toString());
    } catch (TensorFlowException e) {
      throw FormatException.of(folder, "the checkpoint data cannot be restored (truncated, "
          + "corrupt or from another graph): " + firstLine(e));
    }
  }

  private static String firstLine(Exception e) {
    String m = String.valueOf(e.getMessage()).strip();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
