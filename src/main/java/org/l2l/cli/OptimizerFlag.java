package org.l2l.cli;

import org.l2l.UserError;

import java.nio.file.Path;
import org.l2l.io.FormatException;
import org.l2l.io.OptimizerFile;

/**
 * A trained optimizer named on the command line: the file the path resolved to (a run folder
 * names its best optimizer) and what it holds.
 */
record OptimizerFlag(Path file, OptimizerFile.Loaded loaded) {

  /** Resolves and reads {@code path}; a missing or bad file is a usage error of {@code flag}. */
  static OptimizerFlag load(String flag, Path path) {
    try {
      Path file = OptimizerFile.resolve(path);
      return new OptimizerFlag(file, OptimizerFile.read(file));
    } catch (FormatException e) {
      throw UserError.flag(flag, path, e.getMessage());
    }
  }
}
