// Types for every operation in src/api/operations.ts, generated from the checked-in schema:
// a schema change that breaks the console fails `npm run build` (tsc).
const config = {
  schema: "../schema.graphql",
  documents: ["src/api/operations.ts"],
  generates: {
    "src/api/generated.ts": {
      plugins: ["typescript", "typescript-operations"],
      config: {
        scalars: { DateTime: "string", JSON: "unknown", BigInt: "number" },
        enumsAsTypes: true,
        avoidOptionals: { field: true, inputValue: false },
        skipTypename: false,
        nonOptionalTypename: true,
      },
    },
  },
};
export default config;
