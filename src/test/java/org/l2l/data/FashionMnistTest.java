package org.l2l.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {

    /** Where the real files are kept, relative to the working directory (the project). */
    private static final Path REAL_DATA_DIR = Path.of("data", "fashion-mnist");
    private static final List<String> NO_APT = List.of("l2l-test-no-such-apt-get");
    private static final List<String> NO_DPKG = List.of("l2l-test-no-such-dpkg-deb");

    @TempDir
    Path tmp;

    private final List<String> log = new ArrayList<>();

    /** A small Fashion-MNIST: labels 9 0 0 3 like the real one's first. */
    private static Map<String, byte[]> smallFashion() {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(MnistData.TRAIN_IMAGES, TestFiles.images(4, 28, 28));
        files.put(MnistData.TRAIN_LABELS, TestFiles.labels(9, 0, 0, 3));
        files.put(MnistData.TEST_IMAGES, TestFiles.images(2, 28, 28));
        files.put(MnistData.TEST_LABELS, TestFiles.labels(9, 2));
        return files;
    }

    private static final MnistChecksums SUMS = TestFiles.checksums(smallFashion());

    /** Writes the files gzipped, as the Debian package has them. */
    private static Path writeGzipped(Path dir, Map<String, byte[]> files) throws IOException {
        Files.createDirectories(dir);
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            Files.write(dir.resolve(e.getKey() + ".gz"), TestFiles.gzip(e.getValue()));
        }
        return dir;
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted()
                    .collect(Collectors.toList());
        }
    }

    private Path script(String name, String body) throws IOException {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/sh")), "needs a POSIX shell");
        Path script = tmp.resolve(name);
        Files.writeString(script, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

    /** Stand-ins for apt-get download (writes a .deb) and dpkg-deb -x (unpacks {@code files}). */
    private List<List<String>> fakeDebianTools(Map<String, byte[]> files) throws IOException {
        Path content = writeGzipped(tmp.resolve("package-content"), files);
        Path apt = script("fake-apt-get",
                "[ \"$*\" = \"-q download dataset-fashion-mnist\" ] || exit 3\n"
                + "echo 'Get:1 http://deb.debian.org/debian bookworm/main'\n"
                + "echo deb > dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb\n");
        Path dpkg = script("fake-dpkg-deb",
                "[ \"$1\" = -x ] || exit 3\n"
                + "case \"$2\" in */dataset-fashion-mnist_*_all.deb) ;; *) exit 4 ;; esac\n"
                + "mkdir -p \"$3/usr/share/datasets/fashion-mnist\"\n"
                + "cp '" + content + "'/* \"$3/usr/share/datasets/fashion-mnist/\"\n");
        return List.of(List.of(apt.toString()), List.of(dpkg.toString()));
    }

    private static String expectedGzListing() {
        return "[t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz,"
                + " train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz]";
    }

    @Test
    void loadsGeneratedFilesWithTheirSums() throws IOException {
        writeGzipped(tmp, smallFashion());
        Mnist m = FashionMnist.load(tmp, SUMS);
        assertEquals(4, m.train().count());
        assertArrayEquals(new int[] {9, 0, 0, 3}, m.train().labels());
        assertArrayEquals(new int[] {9, 2}, m.test().labels());
        assertEquals(TestFiles.pixel(1, 2, 3) / 255f, m.train().images()[784 + 2 * 28 + 3]);
    }

    /** The pinned Fashion-MNIST sums apply, with Fashion-MNIST's name in the message. */
    @Test
    void otherContentThanThePinnedSumsIsRejected() throws IOException {
        writeGzipped(tmp, smallFashion());
        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(tmp));
        assertEquals(tmp.resolve("train-images-idx3-ubyte.gz") + ": not the Fashion-MNIST file"
                + " train-images-idx3-ubyte: SHA-256 of the uncompressed content is "
                + MnistChecksums.sha256(smallFashion().get(MnistData.TRAIN_IMAGES))
                + ", expected c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888;"
                + " replace it with the original, or delete it to have Fashion-MNIST fetched"
                + " again", e.getMessage());
    }

    @Test
    void missingFileMessageNamesFashionMnist() {
        DataException e = assertThrows(DataException.class, () -> FashionMnist.load(tmp));
        assertEquals(tmp + ": train-images-idx3-ubyte (or train-images-idx3-ubyte.gz) not found;"
                + " let the program fetch Fashion-MNIST or pass the directory holding the four"
                + " Fashion-MNIST files with --data-dir", e.getMessage());
    }

    @Test
    void pinnedSumsAreNotMnists() {
        for (String name : MnistData.FILE_NAMES) {
            String fashion = FashionMnist.CHECKSUMS.sha256().get(name);
            assertEquals(64, fashion.length(), name);
            assertTrue(!fashion.equals(MnistChecksums.CANONICAL.sha256().get(name)), name);
        }
    }

    @Test
    void copiesFromTheInstalledPackage() throws IOException {
        Path system = writeGzipped(tmp.resolve("usr-share"), smallFashion());
        Path dataDir = tmp.resolve("data/fashion-mnist");
        FashionMnist.ensure(dataDir, log::add, system, NO_APT, NO_DPKG, SUMS);
        assertEquals(expectedGzListing(), listing(dataDir).toString());
        assertEquals("copying Fashion-MNIST from " + system + " ...", log.get(0));
        assertEquals("wrote " + dataDir.resolve("train-images-idx3-ubyte.gz") + " ("
                + Files.size(system.resolve("train-images-idx3-ubyte.gz")) + " bytes)",
                log.get(1));
        assertEquals("Fashion-MNIST ready in " + dataDir, log.get(log.size() - 1));
        assertArrayEquals(new int[] {9, 2}, FashionMnist.load(dataDir, SUMS).test().labels());

        log.clear();
        FashionMnist.ensure(dataDir, log::add, system, NO_APT, NO_DPKG, SUMS);
        assertEquals(List.of(), log, "present: nothing to do");
    }

    @Test
    void copiesOnlyMissingFiles() throws IOException {
        Path system = writeGzipped(tmp.resolve("usr-share"), smallFashion());
        Path dataDir = Files.createDirectories(tmp.resolve("data"));
        Files.write(dataDir.resolve(MnistData.TEST_LABELS),
                smallFashion().get(MnistData.TEST_LABELS));
        FashionMnist.ensure(dataDir, log::add, system, NO_APT, NO_DPKG, SUMS);
        assertEquals("[t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte,"
                + " train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz]",
                listing(dataDir).toString());
    }

    @Test
    void wrongFileInTheInstalledPackageKeepsNothing() throws IOException {
        Map<String, byte[]> files = smallFashion();
        byte[] wrong = TestFiles.labels(9, 3);
        files.put(MnistData.TEST_LABELS, wrong);
        Path system = writeGzipped(tmp.resolve("usr-share"), files);
        Path dataDir = tmp.resolve("data");
        DataException e = assertThrows(DataException.class, () -> FashionMnist.ensure(dataDir,
                log::add, system, NO_APT, NO_DPKG, SUMS));
        assertTrue(e.getMessage().startsWith("could not obtain Fashion-MNIST"
                + " train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,"
                + " t10k-labels-idx1-ubyte in " + dataDir + ": " + system + ": fetched"
                + " t10k-labels-idx1-ubyte.gz is not the Fashion-MNIST file"
                + " t10k-labels-idx1-ubyte: SHA-256 of the uncompressed content is "
                + MnistChecksums.sha256(wrong) + ", expected "
                + SUMS.sha256().get(MnistData.TEST_LABELS) + "; apt-get download"
                + " dataset-fashion-mnist: apt-get not found ("), e.getMessage());
        assertEquals(List.of(), listing(dataDir), "no file, not even a .part, is left");
    }

    @Test
    void fetchesThePackageWithAptGetDownloadAndUnpacksIt() throws IOException {
        List<List<String>> tools = fakeDebianTools(smallFashion());
        Path dataDir = tmp.resolve("data");
        FashionMnist.ensure(dataDir, log::add, tmp.resolve("not-installed"), tools.get(0),
                tools.get(1), SUMS);
        assertEquals(expectedGzListing(), listing(dataDir).toString());
        assertEquals("fetching Fashion-MNIST via apt-get download dataset-fashion-mnist ...",
                log.get(0));
        assertEquals("unpacking dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb",
                log.get(1));
        assertEquals("Fashion-MNIST ready in " + dataDir, log.get(6));
        assertEquals(7, log.size());
        assertArrayEquals(new int[] {9, 0, 0, 3}, FashionMnist.load(dataDir, SUMS).train()
                .labels());
    }

    @Test
    void aptGetFailureIsReportedWithItsLastLine() throws IOException {
        Path apt = script("failing-apt-get",
                "echo 'Reading package lists...'\n"
                + "echo 'E: Unable to locate package dataset-fashion-mnist' >&2\nexit 100\n");
        Path dataDir = tmp.resolve("data");
        Path notInstalled = tmp.resolve("not-installed");
        DataException e = assertThrows(DataException.class, () -> FashionMnist.ensure(dataDir,
                log::add, notInstalled, List.of(apt.toString()), NO_DPKG, SUMS));
        assertEquals("could not obtain Fashion-MNIST train-images-idx3-ubyte,"
                + " train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte in "
                + dataDir + ": " + notInstalled + ": not present (package dataset-fashion-mnist"
                + " not installed); apt-get download dataset-fashion-mnist: exit status 100"
                + " (E: Unable to locate package dataset-fashion-mnist). Install the Debian"
                + " package with apt-get install dataset-fashion-mnist (after apt-get update),"
                + " or place the four files train-images-idx3-ubyte, train-labels-idx1-ubyte,"
                + " t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each may end in .gz) in a"
                + " directory and pass it with --data-dir", e.getMessage());
        assertEquals(List.of(), listing(dataDir));
    }

    @Test
    void withoutDebianToolsTheMessageSaysWhatToDo() throws IOException {
        Path dataDir = tmp.resolve("data");
        Path notInstalled = tmp.resolve("not-installed");
        DataException e = assertThrows(DataException.class, () -> FashionMnist.ensure(dataDir,
                log::add, notInstalled, NO_APT, NO_DPKG, SUMS));
        String m = e.getMessage();
        assertTrue(m.contains(": " + notInstalled + ": not present (package"
                + " dataset-fashion-mnist not installed); apt-get download dataset-fashion-mnist:"
                + " apt-get not found ("), m);
        assertTrue(m.endsWith("pass it with --data-dir"), m);
        assertEquals(-1, m.indexOf('\n'), "one line");
        assertEquals(List.of(), listing(dataDir));
    }

    @Test
    void packageWithoutTheDataFolderIsReported() throws IOException {
        Path apt = script("apt-get", "echo x > dataset-fashion-mnist_1_all.deb\n");
        Path dpkg = script("dpkg-deb", "mkdir -p \"$3/usr/share/doc\"\n");
        Path dataDir = tmp.resolve("data");
        DataException e = assertThrows(DataException.class, () -> FashionMnist.ensure(dataDir,
                log::add, tmp.resolve("none"), List.of(apt.toString()),
                List.of(dpkg.toString()), SUMS));
        assertTrue(e.getMessage().contains("; dpkg-deb -x dataset-fashion-mnist_1_all.deb: the"
                + " package has no /usr/share/datasets/fashion-mnist. Install"), e.getMessage());
    }

    /**
     * The real files in data/fashion-mnist, obtained there first when absent (installed package,
     * else apt-get download). Skipped only where neither works.
     */
    @Test
    @Tag("network")
    void realFashionMnistHasStandardCountsAndLabels() throws IOException {
        try {
            FashionMnist.ensure(REAL_DATA_DIR, line -> { });
        } catch (DataException e) {
            Assumptions.abort("real Fashion-MNIST cannot be obtained here: " + e.getMessage());
        }
        long start = System.nanoTime();
        Mnist m = FashionMnist.load(REAL_DATA_DIR);
        System.out.println("loaded real Fashion-MNIST in " + (System.nanoTime() - start)
                / 1_000_000 + " ms");
        assertEquals(60_000, m.train().count());
        assertEquals(10_000, m.test().count());
        assertEquals(28, m.train().rows());
        assertEquals(28, m.train().cols());
        assertArrayEquals(new int[] {9, 0, 0, 3, 0, 2, 7, 2},
                Arrays.copyOf(m.train().labels(), 8));
        int[] train = new int[10];
        int[] test = new int[10];
        Arrays.stream(m.train().labels()).forEach(l -> train[l]++);
        Arrays.stream(m.test().labels()).forEach(l -> test[l]++);
        for (int c = 0; c < 10; c++) {
            assertEquals(6_000, train[c], "class " + c);
            assertEquals(1_000, test[c], "class " + c);
        }
        Images images = ImageDatasets.load("fashion-mnist", REAL_DATA_DIR, line -> { }).train();
        assertEquals("Images[count=60000, height=28, width=28, channels=1]", images.toString());
        assertEquals(12_000, images.select(List.of(0, 9)).count());

        // Copying from an installed package's folder (here the files just obtained).
        Path copy = tmp.resolve("copy");
        FashionMnist.ensure(copy, log::add, REAL_DATA_DIR, NO_APT, NO_DPKG,
                FashionMnist.CHECKSUMS);
        assertEquals(expectedGzListing(), listing(copy).toString());
        assertEquals("copying Fashion-MNIST from " + REAL_DATA_DIR + " ...", log.get(0));

        // MNIST's sums are not Fashion-MNIST's: MnistData.load refuses these files.
        DataException e = assertThrows(DataException.class, () -> MnistData.load(REAL_DATA_DIR));
        assertTrue(e.getMessage().contains(": not the MNIST file train-images-idx3-ubyte:"),
                e.getMessage());
    }

    /** What a fresh machine does: fetch the package with apt-get download, unpack, check. */
    @Test
    @Tag("network")
    void realPackageViaAptGetDownload() throws IOException {
        Path dataDir = tmp.resolve("fashion");
        long start = System.nanoTime();
        try {
            FashionMnist.ensure(dataDir, log::add, tmp.resolve("not-installed"),
                    List.of("apt-get"), List.of("dpkg-deb"), FashionMnist.CHECKSUMS);
        } catch (DataException e) {
            Assumptions.abort("apt-get download does not work here: " + e.getMessage());
        }
        System.out.println("apt-get download, unpack and check of Fashion-MNIST in "
                + (System.nanoTime() - start) / 1_000_000 + " ms");
        assertEquals(expectedGzListing(), listing(dataDir).toString());
        assertEquals(10_000, FashionMnist.load(dataDir).test().count());
    }
}
