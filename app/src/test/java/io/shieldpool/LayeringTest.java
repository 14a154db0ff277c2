package io.shieldpool;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The architecture as rules that fail when broken. From the bottom up:
 * <pre>
 *   time (monotonic time and timers, injected)
 *   plugin (the public plug-in API)   config   view   signals   logging
 *   kinds (the work SPI and registry; one sub-package per kind)
 *   pool (shards, workers, gates: sealed behind Pool)
 *   control (lifecycle, drain, reload, resize; the PoolView)
 *   admin, metrics, systemd (report: they see the view and the listener only)
 *   runtime (the state file: written through the listener, read by the command line)
 *   daemon (wiring)   cli (the entry point)
 * </pre>
 * A layer uses only layers below it; no package cycle anywhere.
 */
class LayeringTest {

    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
            .importPackages("io.shieldpool");

    private static void check(ArchRule rule) {
        rule.check(MAIN);
    }

    @Test
    void noPackageCycles() {
        check(slices().matching("io.shieldpool.(**)").should().beFreeOfCycles());
    }

    @Test
    void lowerLayersNeverUseHigherOnes() {
        check(layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("Time").definedBy("io.shieldpool.time..")
                .layer("Api").definedBy("io.shieldpool.plugin..")
                .layer("Config").definedBy("io.shieldpool.config..")
                .layer("View").definedBy("io.shieldpool.view..")
                .layer("Signals").definedBy("io.shieldpool.signals..")
                .layer("Logging").definedBy("io.shieldpool.logging..")
                .layer("Jobs").definedBy("io.shieldpool.jobs..")
                .layer("Kinds").definedBy("io.shieldpool.kinds..")
                .layer("Pool").definedBy("io.shieldpool.pool..")
                .layer("Control").definedBy("io.shieldpool.control..")
                .layer("Report").definedBy("io.shieldpool.admin..", "io.shieldpool.metrics..", "io.shieldpool.systemd..")
                .layer("Runtime").definedBy("io.shieldpool.runtime..")
                .layer("Daemon").definedBy("io.shieldpool.daemon..")
                .layer("Cli").definedBy("io.shieldpool.cli..")
                .whereLayer("Cli").mayNotBeAccessedByAnyLayer()
                .whereLayer("Daemon").mayOnlyBeAccessedByLayers("Cli")
                .whereLayer("Report").mayOnlyBeAccessedByLayers("Daemon")
                .whereLayer("Runtime").mayOnlyBeAccessedByLayers("Daemon", "Cli")
                .whereLayer("Control").mayOnlyBeAccessedByLayers("Daemon")
                .whereLayer("Pool").mayOnlyBeAccessedByLayers("Control")
                .whereLayer("Kinds").mayOnlyBeAccessedByLayers("Pool", "Control", "Daemon", "Cli")
                .whereLayer("Jobs").mayOnlyBeAccessedByLayers("Kinds", "Pool", "Control", "Report", "Daemon", "Cli")
                .whereLayer("Api").mayOnlyBeAccessedByLayers("Kinds")
                .whereLayer("View").mayOnlyBeAccessedByLayers("Pool", "Control", "Report", "Runtime", "Daemon", "Cli")
                .whereLayer("Signals").mayOnlyBeAccessedByLayers("Control", "Daemon", "Cli")
                .whereLayer("Logging").mayOnlyBeAccessedByLayers("Kinds", "Control", "Report", "Daemon", "Cli"));
    }

    @Test
    void thePluginApiDependsOnNothingOfTheDaemon() {
        check(classes().that().resideInAPackage("io.shieldpool.plugin..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("io.shieldpool.plugin..", "java..",
                        "io.vertx..", "com.typesafe.config..", "org.slf4j.."));
    }

    @Test
    void thePoolIsSealedBehindPool() {
        check(classes().that().resideInAPackage("io.shieldpool.pool").and().arePublic()
                .should().haveNameMatching("io\\.shieldpool\\.pool\\.Pool(\\$.*)?"));
    }

    @Test
    void theEntryPointIsTheOnlyPublicClassOfTheCommandLine() {
        check(classes().that().resideInAPackage("io.shieldpool.cli").and().arePublic()
                .and().areTopLevelClasses().should().haveSimpleName("Main"));
    }

    @Test
    void reportersSeeOnlyTheView() {
        check(noClasses().that().resideInAnyPackage("io.shieldpool.admin..", "io.shieldpool.metrics..",
                        "io.shieldpool.systemd..")
                .should().dependOnClassesThat().resideInAnyPackage("io.shieldpool.pool..", "io.shieldpool.control..",
                        "io.shieldpool.kinds.."));
    }

    /** A kind is reached only through the registry: nothing outside its folder names its classes. */
    @ParameterizedTest
    @ValueSource(strings = {"demo", "exec", "http", "plugin"})
    void aKindIsUsedOnlyThroughTheWorkKindInterface(String kind) {
        String folder = "io.shieldpool.kinds." + kind + "..";
        check(noClasses().that().resideOutsideOfPackage(folder)
                .should().dependOnClassesThat().resideInAPackage(folder));
    }

    /**
     * Fields go on a line as key-values, never through the MDC: the MDC holds strings only, so a
     * {@code worker} or {@code section} put there reaches a typed log index as a string beside the
     * numbers of the key-value lines (issue 14).
     */
    @Test
    void noLineFieldsThroughTheMdc() {
        check(noClasses().should().dependOnClassesThat().haveFullyQualifiedName("org.slf4j.MDC")
                .because("the MDC makes every field a string; add fields with addKeyValue"));
    }
}
