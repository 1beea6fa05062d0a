// Structured debug/info lines from firebase-functions/logger flood test output; keep warnings
// and errors. CLIPSTORE_VERBOSE=1 shows everything.
if (process.env.CLIPSTORE_VERBOSE !== "1") {
  console.debug = () => undefined;
  console.info = () => undefined;
  console.log = () => undefined;
}
