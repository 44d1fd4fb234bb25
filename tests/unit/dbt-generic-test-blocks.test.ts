/**
 * Reading a file's generic test definitions: `{% test %}` blocks and `test_` macros, their
 * parameters (defaults with commas, brackets and quotes), the line the body starts on, and the
 * file's text without the blocks (lines kept) for the macro template.
 */
import { describe, expect, it } from 'vitest';
import { genericTestBlocks } from '../../core/model/dbt/dbt-generic-test-blocks.ts';

describe('generic test blocks', () => {
  it('reads test blocks and test_ macros with their parameters and body line; other macros stay', () => {
    const text = [
      '{% macro helper(x) %}{{ x }}{% endmacro %}',
      "{%- test in_range(model, column_name, bounds=[0, 10], label='a, (b)', f=max(1, 2)) -%}",
      'select * from {{ model }}',
      '{%- endtest %}',
      '{% macro test_has_rows(model) %}',
      'select 1',
      '{% endmacro %}',
    ].join('\n');
    const found = genericTestBlocks(text);
    expect(found.problems).toEqual([]);
    expect(found.blocks.map((b) => [b.name, b.form, b.bodyLine, b.params])).toEqual([
      [
        'in_range',
        'test',
        2,
        [
          { name: 'model' },
          { name: 'column_name' },
          { name: 'bounds', default: '[0, 10]' },
          { name: 'label', default: "'a, (b)'" },
          { name: 'f', default: 'max(1, 2)' },
        ],
      ],
      ['has_rows', 'macro', 5, [{ name: 'model' }]],
    ]);
    expect(found.blocks[0]?.body).toBe('\nselect * from {{ model }}\n');
    // The test block is blank lines now; the macros are untouched, on their own lines.
    expect(found.withoutTests.split('\n')).toEqual([
      '{% macro helper(x) %}{{ x }}{% endmacro %}',
      '',
      '',
      '',
      '{% macro test_has_rows(model) %}',
      'select 1',
      '{% endmacro %}',
    ]);
  });

  it('an unclosed block or a bad parameter is a problem with its line', () => {
    expect(genericTestBlocks('\n{% test open(model) %}\nselect 1\n').problems).toEqual([
      { message: 'generic test open: its {% test %} block is not closed by {% endtest %}', line: 2 },
    ]);
    expect(genericTestBlocks('{% test odd(model, 1x) %}select 1{% endtest %}').problems).toEqual([
      { message: 'generic test odd: "1x" is not a parameter (name or name=default)', line: 1 },
    ]);
  });
});
