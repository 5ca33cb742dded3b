package org.l2l.cli;

import org.l2l.UserError;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.l2l.export.OptimizerExport;
import org.l2l.io.OptimizerFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code l2l export}: a trained optimizer as a SavedModel plus its weights file. */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Export a trained optimizer for use outside the project.",
        "Writes OUT/saved_model.pb (a TensorFlow SavedModel of one update step, signature "
            + "serving_default: inputs gradient [n] and state [n, 2*layers*hidden], outputs "
            + "update [n] and new_state), OUT/optimizer.l2lw (the weights) and OUT/README.md.",
        "A run with several learned rules (--rules) gets one SavedModel per rule in OUT/SCOPE/ "
            + "(e.g. OUT/lstm_conv/), each with its README, and an index README in OUT.",
        "OUT is built in a temporary folder and renamed into place."})
final class ExportCommand implements Callable<Integer> {

  @Option(names = "--optimizer", paramLabel = "PATH", required = true,
      description = "Trained optimizer: a run folder (checkpoints/NAME, its best optimizer) or an "
          + ".l2lw file.")
  Path optimizer;

  @Option(names = "--out", paramLabel = "DIR", required = true,
      description = "Folder to write; must not exist or be empty, unless --force.")
  Path out;

  @Option(names = "--force", description = "Replace --out even if it is not empty.")
  boolean force;

  @Override
  public Integer call() throws IOException {
    OptimizerFlag named = OptimizerFlag.load("--optimizer", optimizer);
    Path source = named.file();
    OptimizerFile.Loaded loaded = named.loaded();
    checkOut(source);
    OptimizerExport.export(loaded, source, out);
    System.out.printf("exported %s to %s (SavedModel, %s, %s)%n", source, out,
        OptimizerFile.FILE_NAME, OptimizerExport.README);
    return 0;
  }

  private void checkOut(Path source) throws IOException {
    if (Files.exists(out, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(out)) {
      throw UserError.flag("--out", out, "exists and is not a folder");
    }
    Path outAbs = out.toAbsolutePath().normalize();
    Path sourceAbs = source.toAbsolutePath().normalize();
    if (sourceAbs.startsWith(outAbs)) {
      throw UserError.flag("--out", out, "contains the optimizer being exported ("
          + source + "); choose another folder");
    }
    Path parent = outAbs.getParent();
    if (parent != null) {
      // The export is built beside OUT and renamed into place: the parent must take files.
      Folders.checkWritable(parent, "--out", out);
      try {
        Files.createDirectories(parent);
      } catch (IOException e) {
        throw UserError.flag("--out", out, "cannot create its parent folder ("
            + e.getMessage() + ")");
      }
      if (!Files.isWritable(parent)) {
        throw UserError.flag("--out", out, "its parent folder is not writable");
      }
    }
    if (Files.isDirectory(out) && !force) {
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(out)) {
        if (entries.iterator().hasNext()) {
          throw UserError.flag("--out", out,
              "exists and is not empty; use --force to replace it");
        }
      }
    }
  }
}
