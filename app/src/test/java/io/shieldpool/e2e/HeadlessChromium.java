package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's headless Chromium, driven over the DevTools protocol (a WebSocket, JDK client): open a
 * page, evaluate expressions in it, collect its console errors and uncaught exceptions, take
 * screenshots. Chromium is never downloaded: {@code .ci/run} installs the distribution's package.
 */
final class HeadlessChromium implements AutoCloseable {

    private static final Pattern DEVTOOLS = Pattern.compile("DevTools listening on (ws://\\S+)");

    private final Process process;
    private final WebSocket socket;
    private final AtomicInteger nextId = new AtomicInteger(1);
    private final Map<Integer, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();
    private final List<String> problems = new ArrayList<>();
    private final String sessionId;

    /** The chromium binary on PATH, if the package is installed. */
    static Optional<Path> find() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            for (String name : List.of("chromium", "chromium-browser")) {
                Path candidate = Path.of(dir, name);
                if (Files.isExecutable(candidate)) {
                    return Optional.of(candidate);
                }
            }
        }
        return Optional.empty();
    }

    HeadlessChromium(Path binary, Path profile, int width, int height) throws Exception {
        process = new ProcessBuilder(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--no-first-run", "--no-default-browser-check",
                "--mute-audio", "--user-data-dir=" + profile, "--remote-debugging-port=0",
                "--window-size=" + width + "," + height, "about:blank")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        String url = devToolsUrl(process.errorReader(StandardCharsets.UTF_8));
        socket = HttpClient.newHttpClient().newWebSocketBuilder()
                .buildAsync(URI.create(url), new Listener()).get(20, TimeUnit.SECONDS);
        String targetId = call("Target.createTarget", new JsonObject().put("url", "about:blank"), null)
                .getString("targetId");
        sessionId = call("Target.attachToTarget", new JsonObject().put("targetId", targetId).put("flatten", true), null)
                .getString("sessionId");
        call("Runtime.enable", new JsonObject());
        call("Log.enable", new JsonObject());
        call("Page.enable", new JsonObject());
        call("Emulation.setDeviceMetricsOverride", new JsonObject().put("width", width).put("height", height)
                .put("deviceScaleFactor", 1).put("mobile", false));
    }

    private static String devToolsUrl(BufferedReader stderr) throws Exception {
        CompletableFuture<String> url = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try (stderr) {
                String line;
                while ((line = stderr.readLine()) != null) {
                    Matcher m = DEVTOOLS.matcher(line);
                    if (m.find()) {
                        url.complete(m.group(1));
                    }
                }
                url.completeExceptionally(new IllegalStateException("chromium exited without a DevTools URL"));
            } catch (IOException e) {
                url.completeExceptionally(e);
            }
        });
        return url.get(30, TimeUnit.SECONDS);
    }

    /** Opens {@code url} and waits until its document has loaded (Page.navigate returns before). */
    void navigate(String url) throws Exception {
        call("Page.navigate", new JsonObject().put("url", url));
        await("location.href === " + new io.vertx.core.json.JsonArray().add(url).encode().replaceAll("^\\[|]$", "")
                + " && document.readyState === 'complete'", Duration.ofSeconds(20));
    }

    /** The value of a JavaScript expression in the page. */
    Object evaluate(String expression) throws Exception {
        JsonObject result = call("Runtime.evaluate", new JsonObject().put("expression", expression)
                .put("returnByValue", true));
        if (result.containsKey("exceptionDetails")) {
            throw new AssertionError("page threw evaluating " + expression + ": " + result.getJsonObject("exceptionDetails"));
        }
        return result.getJsonObject("result").getValue("value");
    }

    /** Waits until {@code expression} evaluates to true in the page. */
    void await(String expression, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Boolean.TRUE.equals(evaluate(expression))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("page never satisfied " + expression + " within " + timeout
                        + "; body text: " + evaluate("document.body.innerText"));
            }
            Thread.sleep(100);
        }
    }

    void screenshot(Path file) throws Exception {
        String data = call("Page.captureScreenshot", new JsonObject().put("format", "png")
                .put("captureBeyondViewport", true)).getString("data");
        Files.createDirectories(file.getParent());
        Files.write(file, Base64.getDecoder().decode(data));
    }

    /** Console errors, uncaught exceptions and failed loads so far, each as one line. */
    synchronized List<String> problems() {
        return List.copyOf(problems);
    }

    synchronized List<String> problems(Predicate<String> matching) {
        return problems.stream().filter(matching).toList();
    }

    private JsonObject call(String method, JsonObject params) throws Exception {
        return call(method, params, sessionId);
    }

    private JsonObject call(String method, JsonObject params, String session) throws Exception {
        int id = nextId.getAndIncrement();
        JsonObject message = new JsonObject().put("id", id).put("method", method).put("params", params);
        if (session != null) {
            message.put("sessionId", session);
        }
        CompletableFuture<JsonObject> reply = new CompletableFuture<>();
        pending.put(id, reply);
        synchronized (socket) {
            socket.sendText(message.encode(), true).get(10, TimeUnit.SECONDS);
        }
        JsonObject answer = reply.get(30, TimeUnit.SECONDS);
        if (answer.containsKey("error")) {
            throw new AssertionError(method + " failed: " + answer.getJsonObject("error"));
        }
        return answer.getJsonObject("result", new JsonObject());
    }

    private void onMessage(JsonObject message) {
        Integer id = message.getInteger("id");
        if (id != null) {
            CompletableFuture<JsonObject> reply = pending.remove(id);
            if (reply != null) {
                reply.complete(message);
            }
            return;
        }
        JsonObject params = message.getJsonObject("params", new JsonObject());
        switch (message.getString("method", "")) {
            case "Runtime.exceptionThrown" -> problem("exception: " + params.getJsonObject("exceptionDetails"));
            case "Runtime.consoleAPICalled" -> {
                String type = params.getString("type");
                if (type.equals("error") || type.equals("assert") || type.equals("warning")) {
                    problem("console." + type + ": " + params.getJsonArray("args"));
                }
            }
            case "Log.entryAdded" -> {
                JsonObject entry = params.getJsonObject("entry");
                if (entry.getString("level").equals("error") || entry.getString("level").equals("warning")) {
                    problem("log " + entry.getString("level") + " (" + entry.getString("source") + "): "
                            + entry.getString("text") + " " + entry.getString("url", ""));
                }
            }
            default -> {
            }
        }
    }

    private synchronized void problem(String line) {
        problems.add(line);
    }

    @Override
    public void close() {
        try {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "done");
        } catch (RuntimeException ignored) {
            // the browser may be gone already
        }
        // why: Chromium's helper processes (renderer, utility, crashpad) can outlive the main one
        // for a moment and keep writing to the profile, which the test's temp directory removal
        // then trips over; end them all and wait for each.
        List<ProcessHandle> family = new ArrayList<>(process.descendants().toList());
        family.add(process.toHandle());
        family.forEach(ProcessHandle::destroy);
        for (ProcessHandle member : family) {
            try {
                member.onExit().get(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                member.destroyForcibly();
            } catch (Exception e) {
                member.destroyForcibly();
            }
        }
    }

    /** Reassembles text messages that arrive in parts (screenshots are large). */
    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                onMessage(new JsonObject(text));
            }
            webSocket.request(1);
            return null;
        }
    }
}
