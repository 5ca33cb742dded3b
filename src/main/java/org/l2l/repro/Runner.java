package org.l2l.repro;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.l2l.UserError;
import org.l2l.config.Json;
import org.l2l.io.AtomicFiles;
import org.l2l.io.Csv;

/**
 * Runs the steps of a plan through the commands' own code ({@code command} is
 * {@link org.l2l.cli.Main#execute}), each into {@code OUT/partial/ID}, renamed to
 * {@code OUT/steps/ID} when finished, so that a stopped run reuses every finished step (and
 * resumes a stopped meta-training from its checkpoint). Progress with an ETA goes to
 * {@code err}.
 */
public final class Runner {

  /** How a run ended. */
  public enum Outcome { DONE, STOPPED }

  /** Folder of the finished steps. */
  public static final String STEPS = "steps";
  /** Folder of the steps under way. */
  public static final String PARTIAL = "partial";
  /** Each finished step's record. */
  public static final String STEP_JSON = "step.json";

  private final Path out;
  private final Function<String[], Integer> command;
  private final PrintWriter err;

  /** A runner writing under {@code out}, running commands with {@code command}. */
  public Runner(Path out, Function<String[], Integer> command, PrintWriter err) {
    this.out = out;
    this.command = command;
    this.err = err;
  }

  /** The folder of finished step {@code id}. */
  public Path done(String id) {
    return out.resolve(STEPS).resolve(id);
  }

  /**
   * Runs every unfinished step of {@code steps} in order; stops early after {@code stopAfter}
   * newly finished steps (null: never) or when a meta-training was stopped (Ctrl-C).
   */
  public Outcome run(List<Plan.Step> steps, Integer stopAfter) throws IOException {
    Files.createDirectories(out.resolve(STEPS));
    Files.createDirectories(out.resolve(PARTIAL));
    double total = 0;
    double remaining = 0;
    for (Plan.Step s : steps) {
      total += s.estimate();
      if (!Files.isDirectory(done(s.id()))) {
        remaining += s.estimate();
      }
    }
    long start = System.nanoTime();
    double estimatedDone = 0;
    int finished = 0;
    int index = 0;
    for (Plan.Step s : steps) {
      index++;
      Path target = done(s.id());
      if (Files.isDirectory(target)) {
        checkSame(s, target);
        continue;
      }
      double elapsed = (System.nanoTime() - start) / 1e9;
      // The estimates' error so far corrects the rest: ETA = remaining estimate x measured rate.
      double rate = estimatedDone > 0 ? elapsed / estimatedDone : 1;
      err.printf(Locale.ROOT, "reproduce: step %d/%d %s (%s); elapsed %s, ETA %s%n", index,
          steps.size(), s.id(), s.kind().name().toLowerCase(Locale.ROOT), duration(elapsed),
          duration((remaining - estimatedDone) * rate));
      err.flush();
      if (!runStep(s)) {
        return Outcome.STOPPED;
      }
      estimatedDone += s.estimate();
      finished++;
      if (stopAfter != null && finished >= stopAfter) {
        return Outcome.STOPPED;
      }
    }
    err.printf(Locale.ROOT, "reproduce: %d steps finished (%d reused) in %s%n", steps.size(),
        steps.size() - finished, duration((System.nanoTime() - start) / 1e9));
    err.flush();
    return Outcome.DONE;
  }

  /** A finished step must have been run with the same planned arguments. */
  private void checkSame(Plan.Step s, Path target) {
    JsonObject o = readJson(target.resolve(STEP_JSON));
    if (!o.get("planned").equals(array(s.args()))) {
      throw UserError.flag("--out", out, "step " + s.id() + " was finished with other settings ("
          + target.resolve(STEP_JSON) + "); use another --out, or delete that step's folder");
    }
  }

  /** Runs one step; false if it was stopped before finishing. */
  private boolean runStep(Plan.Step s) throws IOException {
    Path partial = out.resolve(PARTIAL).resolve(s.id());
    Path secondsFile = out.resolve(PARTIAL).resolve(s.id() + ".seconds");
    List<String> resolved = resolve(s.args());
    List<String> cmd = new ArrayList<>();
    boolean resuming = s.kind() == Plan.Kind.TRAIN
        && Files.isRegularFile(partial.resolve("latest").resolve("state.json"));
    if (s.kind() == Plan.Kind.TRAIN) {
      cmd.add("train");
      if (resuming) {
        cmd.addAll(List.of("--resume", partial.toString()));
      } else {
        cmd.addAll(resolved);
        cmd.addAll(List.of("--checkpoint-dir", out.resolve(PARTIAL).toString(), "--run",
            s.id()));
      }
      cmd.addAll(List.of("--tensorboard-dir", out.resolve("tensorboard").toString()));
    } else {
      cmd.add("evaluate");
      cmd.addAll(resolved);
      cmd.addAll(List.of("--out", partial.toString(), "--no-tensorboard", "--save-instances"));
    }
    if (!resuming && Files.exists(partial)) {
      AtomicFiles.deleteRecursively(partial);
      Files.deleteIfExists(secondsFile);
    }
    double before = Files.isRegularFile(secondsFile)
        ? Double.parseDouble(Files.readString(secondsFile).strip()) : 0;
    long t0 = System.nanoTime();
    int code = command.apply(cmd.toArray(String[]::new));
    double seconds = before + (System.nanoTime() - t0) / 1e9;
    String status = "ok";
    if (s.kind() == Plan.Kind.TRAIN) {
      AtomicFiles.writeString(secondsFile, seconds + "\n");
      if (code == 3) {
        status = "diverged";
      } else if (code == 0) {
        JsonObject config = readJson(partial.resolve("config.json"));
        int epochs = config.getAsJsonObject("training").get("epochs").getAsInt();
        int reached = readJson(partial.resolve("latest").resolve("state.json")).get("epoch")
            .getAsInt();
        if (reached < epochs) {
          err.printf(Locale.ROOT, "reproduce: stopped in step %s at epoch %d of %d; run the same "
              + "command again to continue%n", s.id(), reached, epochs);
          err.flush();
          return false;
        }
      }
    }
    if (code != 0 && !status.equals("diverged")) {
      throw new UserError("reproduce: step " + s.id() + " failed with exit code " + code
          + " (command: ./l2l " + String.join(" ", cmd) + ")");
    }
    JsonObject record = new JsonObject();
    record.addProperty("id", s.id());
    record.add("planned", array(s.args()));
    record.add("command", array(cmd));
    record.addProperty("status", status);
    record.addProperty("seconds", seconds);
    AtomicFiles.writeString(partial.resolve(STEP_JSON), Json.text(record));
    Files.move(partial, done(s.id()), StandardCopyOption.ATOMIC_MOVE);
    Files.deleteIfExists(secondsFile);
    return true;
  }

  /** The arguments with their references resolved against finished steps. */
  List<String> resolve(List<String> args) {
    List<String> out = new ArrayList<>();
    for (String a : args) {
      if (a.startsWith("@step:")) {
        out.add(done(a.substring(6)).toString());
      } else if (a.startsWith("@best:")) {
        out.add(done(best(a.substring(6).split("\\+"))).toString());
      } else if (a.startsWith("@lr:")) {
        out.add(tunedRates(a.substring(4)));
      } else {
        out.add(a);
      }
    }
    return out;
  }

  /** Of the train steps {@code ids}, the one with the lowest finite best validation loss. */
  String best(String[] ids) {
    String best = null;
    double bestLoss = Double.POSITIVE_INFINITY;
    for (String id : ids) {
      Path state = done(id).resolve("latest").resolve("state.json");
      if (!Files.isRegularFile(done(id).resolve("best").resolve("optimizer.l2lw"))
          || !Files.isRegularFile(state)) {
        continue;
      }
      JsonObject o = readJson(state);
      double loss = o.has("best_validation_loss") ? o.get("best_validation_loss").getAsDouble()
          : Double.POSITIVE_INFINITY;
      if (loss < bestLoss) {
        bestLoss = loss;
        best = id;
      }
    }
    if (best == null) {
      // Every run diverged or never evaluated finitely: the first one's latest state stands in.
      return ids[0];
    }
    return best;
  }

  /** The learning rates tuned by evaluate step {@code id}: "sgd=..,nag=..", as it chose them. */
  String tunedRates(String id) {
    Csv.Table t = Csv.read(done(id).resolve("tuning.csv"));
    java.util.Map<String, Double> best = new java.util.LinkedHashMap<>();
    java.util.Map<String, Double> bestLoss = new java.util.LinkedHashMap<>();
    for (List<String> row : t.rows()) {
      String name = row.get(0);
      double lr = Double.parseDouble(row.get(1));
      double loss = Double.parseDouble(row.get(2));
      // As evaluate's tuning: the first strictly lowest loss; without any, the grid's first.
      best.putIfAbsent(name, lr);
      if (loss < bestLoss.getOrDefault(name, Double.POSITIVE_INFINITY)) {
        bestLoss.put(name, loss);
        best.put(name, lr);
      }
    }
    List<String> parts = new ArrayList<>();
    best.forEach((k, v) -> parts.add(k + "=" + Csv.format(v.floatValue())));
    return String.join(",", parts);
  }

  static JsonObject readJson(Path file) {
    try {
      return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    } catch (IOException | RuntimeException e) {
      throw new UserError(file + ": unreadable (" + e.getMessage() + ")");
    }
  }

  private static JsonArray array(List<String> a) {
    JsonArray arr = new JsonArray();
    a.forEach(arr::add);
    return arr;
  }

  static String duration(double seconds) {
    long s = Math.round(Math.max(0, seconds));
    return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60)
        : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
  }
}
