package org.l2l.data;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Fashion-MNIST (Zalando's 28x28 grey images of clothing in 10 classes, 60,000 for training and
 * 10,000 for testing): the same four IDX file names and format as MNIST, plain or gzipped, read
 * with {@link Idx} and checked against their own pinned sums ({@link #CHECKSUMS}), never MNIST's.
 *
 * <p>The files come from the Debian package {@value #DEBIAN_PACKAGE}, which installs them
 * gzipped in {@link #SYSTEM_DIR}. {@link #ensure} copies them from there when the package is
 * installed; otherwise it fetches the package without installing it ({@code apt-get download},
 * which needs no root, then {@code dpkg-deb -x} into a temporary folder). Each file is copied
 * under a hidden temporary name, checked, and renamed only once all are good.
 */
public final class FashionMnist {

    /** The data set's name in {@link ImageDatasets#NAMES}. */
    public static final String NAME = "fashion-mnist";
    /** The Debian package that ships the files. */
    public static final String DEBIAN_PACKAGE = "dataset-fashion-mnist";
    /** Where {@value #DEBIAN_PACKAGE} installs the four gzipped files. */
    public static final Path SYSTEM_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    /**
     * SHA-256 of the uncompressed content of the four files, as {@value #DEBIAN_PACKAGE}
     * (version 0.0~git20200523.55506a9-1) ships them, which are Zalando's published files.
     */
    public static final MnistChecksums CHECKSUMS = new MnistChecksums(Map.of(
            MnistData.TRAIN_IMAGES,
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            MnistData.TRAIN_LABELS,
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            MnistData.TEST_IMAGES,
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            MnistData.TEST_LABELS,
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"));

    /** apt retries on its own; this only bounds a hung process (31 MB package). */
    static final Duration APT_TIMEOUT = Duration.ofMinutes(10);
    /** Unpacking the package takes well under a second; this bounds a hung process. */
    static final Duration DPKG_TIMEOUT = Duration.ofMinutes(2);

    /** The data set's name in messages. */
    private static final String DISPLAY_NAME = "Fashion-MNIST";
    /** Where the files are inside the package, relative to its root. */
    private static final String PACKAGE_DATA_DIR = "usr/share/datasets/fashion-mnist";

    private FashionMnist() {
    }

    /**
     * Loads both splits from a directory holding the four IDX files ({@link MnistData#FILE_NAMES},
     * each plain or gzipped), checking each against {@link #CHECKSUMS}.
     *
     * @param dataDir the directory, e.g. {@code data/fashion-mnist}
     * @return the training (60,000) and test (10,000) splits, 28x28, labels 0..9
     * @throws DataException if a file is missing, malformed or not the Fashion-MNIST file, or
     *                       image and label counts differ
     */
    public static Mnist load(Path dataDir) {
        return load(dataDir, CHECKSUMS);
    }

    /** As {@link #load(Path)} with other sums, for tests on small generated files. */
    static Mnist load(Path dataDir, MnistChecksums sums) {
        return MnistData.load(dataDir, sums, DISPLAY_NAME);
    }

    /**
     * Ensures {@code dataDir} holds the four Fashion-MNIST files, copying those that are absent
     * from {@link #SYSTEM_DIR} if the package is installed, else from the package fetched with
     * {@code apt-get download} and unpacked with {@code dpkg-deb -x} (no root needed); does
     * nothing if all are present.
     *
     * @param dataDir the data directory, created if needed
     * @param log     receives one line per step
     * @throws DataException if some file could not be obtained, naming every source tried and
     *                       how to install the package or place the files by hand
     */
    public static void ensure(Path dataDir, Consumer<String> log) {
        ensure(dataDir, log, SYSTEM_DIR, List.of("apt-get"), List.of("dpkg-deb"), CHECKSUMS);
    }

    /**
     * As {@link #ensure(Path, Consumer)} with the installed folder, the two tools and the sums
     * given, so tests can substitute generated files and stand-in commands.
     */
    static void ensure(Path dataDir, Consumer<String> log, Path systemDir,
            List<String> aptGetCommand, List<String> dpkgDebCommand, MnistChecksums sums) {
        List<String> missing = MnistFetcher.missing(dataDir);
        if (missing.isEmpty()) {
            return;
        }
        FetchSupport.createDirectories(dataDir);
        List<String> failures = new ArrayList<>();
        if (Files.isDirectory(systemDir)) {
            try {
                log.accept("copying " + DISPLAY_NAME + " from " + systemDir + " ...");
                copyFrom(systemDir, dataDir, missing, systemDir.toString(), log, sums);
            } catch (DataException e) {
                failures.add(e.getMessage());
                log.accept("the installed package did not work: " + e.getMessage());
            }
        } else {
            failures.add(systemDir + ": not present (package " + DEBIAN_PACKAGE
                    + " not installed)");
        }
        missing = MnistFetcher.missing(dataDir);
        if (!missing.isEmpty()) {
            try {
                fetchPackage(dataDir, missing, log, aptGetCommand, dpkgDebCommand, sums);
            } catch (DataException e) {
                failures.add(e.getMessage());
                log.accept("apt-get download did not work: " + e.getMessage());
            }
        }
        missing = MnistFetcher.missing(dataDir);
        if (!missing.isEmpty()) {
            throw new DataException("could not obtain " + DISPLAY_NAME + " "
                    + String.join(", ", missing) + " in " + dataDir + ": "
                    + String.join("; ", failures) + ". Install the Debian package with"
                    + " apt-get install " + DEBIAN_PACKAGE + " (after apt-get update), or place"
                    + " the four files " + String.join(", ", MnistData.FILE_NAMES)
                    + " (each may end in .gz) in a directory and pass it with --data-dir");
        }
        log.accept(DISPLAY_NAME + " ready in " + dataDir);
    }

    /** Fetches the package into a temporary folder, unpacks it there and copies from it. */
    private static void fetchPackage(Path dataDir, List<String> missing, Consumer<String> log,
            List<String> aptGetCommand, List<String> dpkgDebCommand, MnistChecksums sums) {
        String what = "apt-get download " + DEBIAN_PACKAGE;
        log.accept("fetching " + DISPLAY_NAME + " via " + what + " ...");
        Path work = FetchSupport.newWorkDirectory("l2l-fashion-mnist", what);
        try {
            List<String> command = new ArrayList<>(aptGetCommand);
            command.addAll(List.of("-q", "download", DEBIAN_PACKAGE));
            FetchSupport.run(what, "apt-get", command, work, work.resolve("apt-output.txt"),
                    APT_TIMEOUT, Map.of("DEBIAN_FRONTEND", "noninteractive"));
            Path deb = findDeb(work, what);
            String unpack = "dpkg-deb -x " + deb.getFileName();
            log.accept("unpacking " + deb.getFileName());
            Path root = work.resolve("root");
            command = new ArrayList<>(dpkgDebCommand);
            command.addAll(List.of("-x", deb.toString(), root.toString()));
            FetchSupport.run(unpack, "dpkg-deb", command, work,
                    work.resolve("dpkg-output.txt"), DPKG_TIMEOUT, Map.of());
            Path unpacked = root.resolve(PACKAGE_DATA_DIR);
            if (!Files.isDirectory(unpacked)) {
                throw new DataException(unpack + ": the package has no /" + PACKAGE_DATA_DIR);
            }
            copyFrom(unpacked, dataDir, missing, what, log, sums);
        } finally {
            FetchSupport.deleteTree(work);
        }
    }

    private static Path findDeb(Path work, String what) {
        try (DirectoryStream<Path> debs = Files.newDirectoryStream(work,
                DEBIAN_PACKAGE + "_*.deb")) {
            for (Path p : debs) {
                return p;
            }
        } catch (IOException e) {
            throw new DataException(what + ": cannot list " + work + " ("
                    + FetchSupport.describe(e) + ")", e);
        }
        throw new DataException(what + ": apt-get produced no " + DEBIAN_PACKAGE + "_*.deb");
    }

    /**
     * Copies the {@code missing} files (each plain or gzipped, keeping its name) from
     * {@code sourceDir} into {@code dataDir}: all to temporary names first, all checked, then
     * all renamed.
     *
     * @param source the source as messages name it
     */
    private static void copyFrom(Path sourceDir, Path dataDir, List<String> missing,
            String source, Consumer<String> log, MnistChecksums sums) {
        Map<Path, Path> partToTarget = new LinkedHashMap<>();
        try {
            for (String name : missing) {
                Path from = MnistData.find(sourceDir, name);
                if (from == null) {
                    throw new DataException(source + ": has no " + name + " (or " + name
                            + MnistData.GZIP_SUFFIX + ")");
                }
                Path target = dataDir.resolve(from.getFileName().toString());
                Path part = FetchSupport.newPartFile(dataDir, target.getFileName().toString());
                partToTarget.put(part, target);
                try {
                    Files.copy(from, part, StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException e) {
                    throw new DataException(source + ": cannot copy " + from + " ("
                            + FetchSupport.describe(e) + ")", e);
                }
                MnistFetcher.verify(part, target, name, source, sums, DISPLAY_NAME);
            }
            for (Map.Entry<Path, Path> e : partToTarget.entrySet()) {
                FetchSupport.commit(e.getKey(), e.getValue(), log);
            }
        } finally {
            for (Path part : partToTarget.keySet()) {
                FetchSupport.deleteQuietly(part);
            }
        }
    }
}
