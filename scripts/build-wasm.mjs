// Builds every wasm module of the package with asconfig.json (which extends the user preset):
// one asc run per entry, so each module is compiled on its own, as a user's module would be.
import asc from "assemblyscript/asc";

const modules = {
  core: "assembly/core.ts",
  param_test: "assembly/selftest/param_test.ts",
  bench: "bench/assembly/workloads.ts",
};

let failed = false;
for (const [target, entry] of Object.entries(modules)) {
  const { error, stderr } = await asc.main([entry, "--config", "asconfig.json", "--target", target]);
  if (error) {
    failed = true;
    console.error(`asc ${entry}: ${error.message}\n${stderr.toString()}`);
  } else {
    console.log(`built ${target} <- ${entry}`);
  }
}
process.exit(failed ? 1 : 0);
