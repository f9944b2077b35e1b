import { InvalidArgumentError } from 'commander';

/** A positive, finite number (`--time-scale 0.001`, `--rate 250`). */
export function positiveNumberArg(flag: string): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number) || number <= 0) {
      throw new InvalidArgumentError(`Invalid ${flag} "${value}": expected a number greater than 0`);
    }
    return number;
  };
}
