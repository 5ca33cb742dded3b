package org.l2l.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.l2l.UserError;
import org.l2l.io.AtomicFiles;

/** Output folders named by flags: checked before any work, prepared before writing. */
final class Folders {

  private Folders() {}

  /**
   * Checks that {@code dir} can be created and written: its nearest existing ancestor must be a
   * writable folder. A failure names {@code flag} and the folder, and says why.
   */
  static void checkWritable(Path dir, String flag) {
    checkWritable(dir, flag, dir);
  }

  /** As {@link #checkWritable(Path, String)}, naming {@code shown} as the flag's value. */
  static void checkWritable(Path dir, String flag, Object shown) {
    Path p = dir.toAbsolutePath().normalize();
    while (p != null && !Files.exists(p)) {
      p = p.getParent();
    }
    if (p == null) {
      throw UserError.flag(flag, shown, "cannot be created");
    }
    if (!Files.isDirectory(p)) {
      throw UserError.flag(flag, shown, p + " is a file, not a folder");
    }
    try { // root passes every permission check: only a real file says whether writing works
      Files.delete(Files.createTempFile(p, ".l2l-probe", ".tmp"));
    } catch (IOException | UnsupportedOperationException e) {
      String why = e instanceof java.nio.file.FileSystemException f && f.getReason() != null
          ? f.getReason() : e instanceof java.nio.file.AccessDeniedException
          ? "permission denied" : "a file cannot be created there";
      throw UserError.flag(flag, shown, "cannot write in " + p + " (" + why + ")");
    }
  }

  /** Empties (or creates) {@code dir}; a failure is a {@link UserError} of {@code flag}. */
  static void prepare(Path dir, String flag) {
    try {
      if (Files.exists(dir)) {
        AtomicFiles.deleteRecursively(dir);
      }
      Files.createDirectories(dir);
      if (!Files.isWritable(dir)) {
        throw new IOException("not writable");
      }
    } catch (IOException e) {
      throw UserError.flag(flag, dir.getParent(), "cannot write there (" + e.getMessage() + ")");
    }
  }
}
