/** Says loudly, once per run, which database backends the tests cover. */
export default function setup(): void {
  if (process.env.TEST_DATABASE_URL) {
    process.stdout.write("[ucledger tests] database tests run on PGlite and on the PostgreSQL server in TEST_DATABASE_URL\n");
  } else {
    process.stdout.write(
      "\n[ucledger tests] WARNING: TEST_DATABASE_URL is not set: database tests run on PGlite ONLY, not on a PostgreSQL server.\n" +
        "[ucledger tests] Set TEST_DATABASE_URL=postgres://… (CI does) to cover the server too.\n\n",
    );
  }
}
