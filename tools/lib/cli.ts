/**
 * How every tool ends: a problem a person can fix (a bad setup file, a missing firmware file, QEMU missing or too
 * old) is one line naming the cause and the fix, and exit status 2; anything else is a bug in the tool, shown with
 * its stack, exit status 1.
 */

/** A problem in the user's machine or files, not in the tool. Its message names the cause and the fix. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}

/** The exit status of a tool stopped by a UserError (make reports it as "Error 2"). */
export const EXIT_USER_ERROR = 2;

/** Runs a tool's main; exits with the number it returns (0 when it returns nothing). `tag` prefixes its lines. */
export function runMain(tag: string, main: () => Promise<number | void> | number | void): void {
  Promise.resolve()
    .then(main)
    .then(
      (code) => process.exit(code ?? 0),
      (e: unknown) => {
        if (e instanceof UserError) {
          console.error(`[${tag}] ${e.message}`);
          process.exit(EXIT_USER_ERROR);
        }
        console.error(`[${tag}] internal error (a bug in the tool, please report it):`, e);
        process.exit(1);
      },
    );
}
