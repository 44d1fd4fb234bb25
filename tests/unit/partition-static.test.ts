import { describe, expect, it } from 'vitest';
import { PartitionKeyError, PartitionsDefinitionError, StaticPartitions, staticPartitions } from '../../core/model/partitions/index.ts';

const now = new Date('2024-01-01T00:00:00Z');

describe('StaticPartitions', () => {
  const regions = staticPartitions(['eu', 'us', 'apac', 'latam']);

  it('lists its keys in the order given, whatever now is', () => {
    expect(regions.type).toBe('static');
    expect(regions.keys(now)).toEqual(['eu', 'us', 'apac', 'latam']);
    expect(regions.keys(new Date(0))).toEqual(['eu', 'us', 'apac', 'latam']);
    expect(new StaticPartitions(['a']).keys(now)).toEqual(['a']);
  });

  it('answers has and validateKey', () => {
    expect(regions.has('us', now)).toBe(true);
    expect(regions.has('mars', now)).toBe(false);
    expect(() => regions.validateKey('apac', now)).not.toThrow();
    expect(() => regions.validateKey('mars', now)).toThrow('partition "mars" is not one of the static partitions (eu, us, apac, latam)');
    expect(() => regions.validateKey('mars', now)).toThrow(PartitionKeyError);
  });

  it('elides a long key list in messages', () => {
    const many = staticPartitions(Array.from({ length: 12 }, (_, i) => `k${i}`));
    expect(() => many.validateKey('x', now)).toThrow('partition "x" is not one of the static partitions (k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, … 2 more)');
  });

  it('has no windows', () => {
    expect(regions.window('eu')).toBeUndefined();
    expect(regions.localWindow('eu')).toBeUndefined();
  });

  it('lists keys between two keys by list order', () => {
    expect(regions.keysBetween('us', 'latam', now)).toEqual(['us', 'apac', 'latam']);
    expect(regions.keysBetween('apac', 'apac', now)).toEqual(['apac']);
    expect(() => regions.keysBetween('latam', 'us', now)).toThrow(
      'partition range latam..us is reversed: "latam" comes after "us" in static(eu, us, apac, latam)',
    );
    expect(() => regions.keysBetween('eu', 'mars', now)).toThrow(/"mars" is not one of the static partitions/);
  });

  it('prints as static(...)', () => {
    expect(String(regions)).toBe('static(eu, us, apac, latam)');
  });

  it('is frozen, and copies its keys', () => {
    const keys = ['a', 'b'];
    const definition = staticPartitions(keys);
    keys.push('c');
    expect(definition.keys(now)).toEqual(['a', 'b']);
    expect(Object.isFrozen(definition)).toBe(true);
    expect(Object.isFrozen(definition.keys(now))).toBe(true);
  });

  it('rejects empty, duplicate and malformed keys', () => {
    expect(() => staticPartitions([])).toThrow('static partitions need at least one key');
    expect(() => staticPartitions(['a', 'b', 'a'])).toThrow('static partition key "a" is listed twice');
    expect(() => staticPartitions(['a b'])).toThrow('static partition key "a b" is invalid (use letters, digits, "_", "." and "-")');
    expect(() => staticPartitions([''])).toThrow(PartitionsDefinitionError);
    expect(() => staticPartitions(['a/b'])).toThrow(/"a\/b" is invalid/);
    expect(() => staticPartitions(['ok_1.2-x'])).not.toThrow();
  });
});
