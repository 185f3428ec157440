/** Options whose value is a secret: never shown in the process title (`ps`, `/proc/<pid>/cmdline`). */
const SECRET_OPTIONS = ['--token'] as const;

/** What `moodle-gateway` shows as its process title instead of a secret given on the command line. */
export const HIDDEN = '[hidden]';

/**
 * The command line with every secret option's value replaced (`--token X`, `--token=X`; `--token -`
 * reads stdin and is kept), and whether anything was replaced.
 */
export function hideSecretArgs(args: readonly string[]): {
  readonly args: string[];
  readonly hidden: boolean;
} {
  const shown: string[] = [];
  let hidden = false;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (arg === '--') {
      shown.push(...args.slice(index));
      break;
    }
    const option = SECRET_OPTIONS.find((name) => arg === name || arg.startsWith(`${name}=`));
    if (option === undefined) {
      shown.push(arg);
    } else if (arg.startsWith(`${option}=`)) {
      const value = arg.slice(option.length + 1);
      hidden ||= value !== '-';
      shown.push(value === '-' ? arg : `${option}=${HIDDEN}`);
    } else {
      const value = args[index + 1];
      if (value === undefined || value === '-') {
        shown.push(arg);
        continue;
      }
      hidden = true;
      shown.push(arg, HIDDEN);
      index++;
    }
  }
  return { args: shown, hidden };
}
