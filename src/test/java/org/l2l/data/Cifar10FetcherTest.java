package org.l2l.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Cifar10FetcherTest {

    private static final String PLACE_BY_HAND = " and extract it there, or place the six files"
            + " data_batch_1.bin .. data_batch_5.bin and test_batch.bin (or the"
            + " cifar-10-batches-bin folder holding them) in a directory and pass it with"
            + " --data-dir";

    @TempDir
    Path tmp;

    private final List<String> log = new ArrayList<>();
    private final AtomicInteger requests = new AtomicInteger();
    private HttpServer server;

    @AfterEach
    void stopServer() {
        if (server != null) {
            server.stop(0);
        }
    }

    /** The six generated files as the official archive holds them, gzipped tar. */
    private static byte[] archive(Map<String, byte[]> files) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("cifar-10-batches-bin/batches.meta.txt", "airplane\n".getBytes());
        files.forEach((name, data) -> entries.put("cifar-10-batches-bin/" + name, data));
        entries.put("cifar-10-batches-bin/readme.html", "<html></html>".getBytes());
        return TestFiles.gzip(TestFiles.tar(entries, false));
    }

    private static Map<String, byte[]> files(int records) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (int f = 0; f < 6; f++) {
            files.put(Cifar10.FILE_NAMES.get(f), CifarFiles.batch(f, records, 5));
        }
        return files;
    }

    private static String md5(byte[] data) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
    }

    /** Serves {@code body} at /kriz/cifar-10-binary.tar.gz; returns that address. */
    private URI serve(byte[] body) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            requests.incrementAndGet();
            boolean found = exchange.getRequestURI().getPath()
                    .equals("/kriz/cifar-10-binary.tar.gz");
            exchange.sendResponseHeaders(found ? 200 : 404, found ? body.length : -1);
            try (OutputStream out = exchange.getResponseBody()) {
                if (found) {
                    out.write(body);
                }
            }
        });
        server.start();
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort()
                + "/kriz/cifar-10-binary.tar.gz");
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted()
                    .collect(Collectors.toList());
        }
    }

    @Test
    void goodArchiveBecomesTheBatchesFolder() throws Exception {
        Map<String, byte[]> files = files(3);
        byte[] body = archive(files);
        URI url = serve(body);
        Path dataDir = tmp.resolve("data/cifar10");
        Cifar10Fetcher.ensure(dataDir, log::add, url, md5(body));
        assertEquals(List.of("cifar-10-batches-bin"), listing(dataDir));
        Path batches = dataDir.resolve("cifar-10-batches-bin");
        assertEquals(List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"), listing(batches));
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            assertArrayEquals(e.getValue(), Files.readAllBytes(batches.resolve(e.getKey())));
        }
        assertEquals(List.of("downloading " + url + " ...",
                "extracting 6 files from cifar-10-binary.tar.gz",
                "wrote " + batches,
                "CIFAR-10 ready in " + dataDir), log);
        ImageDataset cifar = Cifar10.load(dataDir);
        assertEquals(15, cifar.train().count());
        assertEquals(3, cifar.test().count());

        // Present now: nothing is fetched again.
        Cifar10Fetcher.ensure(dataDir, log::add, url, md5(body));
        assertEquals(1, requests.get());
        assertEquals(4, log.size());
    }

    @Test
    void wrongMd5IsRejectedAndNothingIsLeft() throws Exception {
        byte[] body = archive(files(2));
        URI url = serve(body);
        Path dataDir = tmp.resolve("data");
        String expected = "c32a1d4ab5d03f1284b67883e8d87530";
        DataException e = assertThrows(DataException.class,
                () -> Cifar10Fetcher.ensure(dataDir, log::add, url, expected));
        assertEquals("could not obtain CIFAR-10 in " + dataDir + ": " + url + ": MD5 of the"
                + " download is " + md5(body) + ", expected " + expected + " (cut off, corrupt"
                + " or another file). Download " + url + " (MD5 " + expected + ")"
                + PLACE_BY_HAND, e.getMessage());
        assertEquals(List.of(), listing(dataDir), "no file, not even a .part, is left");
    }

    @Test
    void unreachableHostFailsQuicklyWithOneLine() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        URI url = URI.create("http://127.0.0.1:" + port + "/kriz/cifar-10-binary.tar.gz");
        Path dataDir = tmp.resolve("data");
        long start = System.nanoTime();
        DataException e = assertThrows(DataException.class,
                () -> Cifar10Fetcher.ensure(dataDir, log::add, url, Cifar10Fetcher.MD5));
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;
        String m = e.getMessage();
        assertTrue(m.startsWith("could not obtain CIFAR-10 in " + dataDir + ": " + url
                + ": cannot connect (connection refused or host unreachable). Download "), m);
        assertTrue(m.endsWith(". Download " + url + " (MD5 c32a1d4ab5d03f1284b67883e8d87530)"
                + PLACE_BY_HAND), m);
        assertEquals(-1, m.indexOf('\n'), "one line");
        assertTrue(seconds < 15, "took " + seconds + " s");
        assertEquals(List.of(), listing(dataDir));
        assertEquals(List.of("downloading " + url + " ..."), log);
    }

    @Test
    void httpErrorIsReported() throws Exception {
        URI url = serve(new byte[0]).resolve("/elsewhere.tar.gz");
        Path dataDir = tmp.resolve("data");
        DataException e = assertThrows(DataException.class,
                () -> Cifar10Fetcher.ensure(dataDir, log::add, url, Cifar10Fetcher.MD5));
        assertTrue(e.getMessage().startsWith("could not obtain CIFAR-10 in " + dataDir + ": "
                + url + ": HTTP status 404. Download"), e.getMessage());
        assertEquals(List.of(), listing(dataDir));
    }

    @Test
    void archiveWithoutAFileKeepsNothing() throws Exception {
        Map<String, byte[]> files = files(2);
        files.remove("test_batch.bin");
        byte[] body = archive(files);
        URI url = serve(body);
        Path dataDir = tmp.resolve("data");
        DataException e = assertThrows(DataException.class,
                () -> Cifar10Fetcher.ensure(dataDir, log::add, url, md5(body)));
        assertTrue(e.getMessage().startsWith("could not obtain CIFAR-10 in " + dataDir + ": "
                + url + ": the archive has no cifar-10-batches-bin/test_batch.bin. Download"),
                e.getMessage());
        assertEquals(List.of(), listing(dataDir));
    }

    @Test
    void archiveWithABadFileKeepsNothing() throws Exception {
        Map<String, byte[]> files = files(2);
        byte[] bad = files.get("data_batch_2.bin");
        bad[3073] = 10;
        byte[] body = archive(files);
        URI url = serve(body);
        Path dataDir = tmp.resolve("data");
        DataException e = assertThrows(DataException.class,
                () -> Cifar10Fetcher.ensure(dataDir, log::add, url, md5(body)));
        String m = e.getMessage();
        assertTrue(m.startsWith("could not obtain CIFAR-10 in " + dataDir + ": " + url
                + ": extracted data_batch_2.bin is invalid: "), m);
        assertTrue(m.contains("data_batch_2.bin: record 1 has label byte 10, expected 0..9"), m);
        assertEquals(List.of(), listing(dataDir));
    }

    @Test
    void filesAlreadyInTheFolderAreKept() throws Exception {
        Path dataDir = tmp.resolve("data");
        Path batches = dataDir.resolve("cifar-10-batches-bin");
        Files.createDirectories(batches);
        byte[] own = CifarFiles.batch(0, 1, 99);
        Files.write(batches.resolve("data_batch_1.bin"), own);
        byte[] body = archive(files(2));
        URI url = serve(body);
        Cifar10Fetcher.ensure(dataDir, log::add, url, md5(body));
        assertArrayEquals(own, Files.readAllBytes(batches.resolve("data_batch_1.bin")));
        assertEquals(List.of("cifar-10-batches-bin"), listing(dataDir));
        assertEquals(6, listing(batches).size());
        assertEquals(9, Cifar10.load(dataDir).train().count(), "1 + 4 * 2");
        assertEquals("wrote " + batches.resolve("data_batch_2.bin") + " (6146 bytes)",
                log.get(2));
    }

    @Test
    void presentFilesNeedNoNetwork() {
        CifarFiles.write(tmp, 1, 1);
        Cifar10Fetcher.ensure(tmp, log::add, URI.create("http://127.0.0.1:9/none"), "x");
        assertEquals(List.of(), log);
    }

    @Test
    void officialArchiveAndSum() {
        assertEquals("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
                Cifar10Fetcher.URL.toString());
        assertEquals("c32a1d4ab5d03f1284b67883e8d87530", Cifar10Fetcher.MD5);
    }
}
