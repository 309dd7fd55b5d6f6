/** Reading command arguments: keys, integers and keywords, with Redis's error messages. */
import { RespError } from './reply.js';

/** A key as ringkv stores it: the argument's bytes read as UTF-8. */
export function keyOf(arg: Buffer): string {
  return arg.toString('utf8');
}

/** An argument compared case-insensitively (option names, subcommands). */
export function word(arg: Buffer | undefined): string {
  return arg === undefined ? '' : arg.toString('latin1').toUpperCase();
}

/** A signed 64-bit-looking integer that is also a safe JS integer, else Redis's error. */
export function integerOf(arg: Buffer): number {
  const text = arg.toString('latin1');
  if (!/^-?[0-9]{1,16}$/.test(text)) {
    throw new RespError('ERR', 'value is not an integer or out of range');
  }
  const value = Number(text);
  if (!Number.isSafeInteger(value))
    throw new RespError('ERR', 'value is not an integer or out of range');
  return value;
}

export function syntaxError(): RespError {
  return new RespError('ERR', 'syntax error');
}

export function wrongArity(name: string): RespError {
  return new RespError('ERR', `wrong number of arguments for '${name}' command`);
}
