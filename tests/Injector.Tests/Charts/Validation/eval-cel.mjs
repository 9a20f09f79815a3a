// Evaluates CEL expressions (a JSON array of {id, expression, variables} read from the file named by the first
// argument) with @marcbachmann/cel-js, and prints a JSON array of {id, value} or {id, error}: the chart tests check
// the matchConditions the API server evaluates with cel-go, on the objects it would bind to them.
import fs from "node:fs";
import { evaluate } from "@marcbachmann/cel-js";

const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const results = cases.map(({ id, expression, variables }) => {
  try {
    return { id, value: evaluate(expression, variables) };
  } catch (e) {
    return { id, error: String(e.message ?? e) };
  }
});
console.log(JSON.stringify(results, (_, v) => (typeof v === "bigint" ? Number(v) : v)));
