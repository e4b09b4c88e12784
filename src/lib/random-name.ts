import { randomBytes, randomInt } from 'node:crypto';

const adjectives = [
  'admiring',
  'brave',
  'busy',
  'calm',
  'clever',
  'cool',
  'eager',
  'elastic',
  'epic',
  'fervent',
  'focused',
  'gallant',
  'happy',
  'hopeful',
  'jolly',
  'keen',
  'kind',
  'lucid',
  'modest',
  'nifty',
  'optimistic',
  'quirky',
  'relaxed',
  'serene',
  'sharp',
  'stoic',
  'tender',
  'upbeat',
  'vibrant',
  'zealous',
];
const nouns = [
  'babbage',
  'bohr',
  'curie',
  'darwin',
  'einstein',
  'euler',
  'faraday',
  'fermi',
  'gauss',
  'hopper',
  'hypatia',
  'kepler',
  'lamarr',
  'lovelace',
  'maxwell',
  'meitner',
  'newton',
  'noether',
  'pascal',
  'ritchie',
  'shannon',
  'thompson',
  'torvalds',
  'turing',
  'wozniak',
  'yalow',
  'zhukovsky',
  'knuth',
  'dijkstra',
  'liskov',
];

/** A docker-style name such as `brave_turing`, for containers created without one. */
export function randomName(): string {
  return `${adjectives[randomInt(adjectives.length)]}_${nouns[randomInt(nouns.length)]}`;
}

/** A 64-hex-digit identifier, as Docker uses for containers, execs and networks. */
export function randomId(): string {
  return randomBytes(32).toString('hex');
}
