// A strict RFC 4180 reader for the tests: every record ends in CRLF, a field is either plain (no
// quote, comma, CR or LF) or quoted (quotes inside doubled), every record has as many fields as
// the header. Anything else throws, naming the record and column.

export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let index = 0;
  const fail = (problem: string): never => {
    throw new Error(`CSV record ${records.length + 1}, field ${record.length + 1} (offset ${index}): ${problem}`);
  };
  while (index < text.length) {
    let value = '';
    if (text[index] === '"') {
      index += 1;
      for (;;) {
        if (index >= text.length) fail('a quoted field is not closed');
        const char = text[index];
        if (char === '"') {
          if (text[index + 1] === '"') {
            value += '"';
            index += 2;
            continue;
          }
          index += 1;
          break;
        }
        value += char;
        index += 1;
      }
    } else {
      while (index < text.length && text[index] !== ',' && text[index] !== '\r') {
        if (text[index] === '"' || text[index] === '\n') fail(`${JSON.stringify(text[index])} in a field that is not quoted`);
        value += text[index];
        index += 1;
      }
    }
    record.push(value);
    if (text[index] === ',') {
      index += 1;
      continue;
    }
    if (text.slice(index, index + 2) !== '\r\n') fail('a record must end with CRLF');
    index += 2;
    records.push(record);
    record = [];
  }
  if (record.length > 0) fail('the last record does not end with CRLF');
  const width = records[0]?.length ?? 0;
  records.forEach((fields, at) => {
    if (fields.length !== width) throw new Error(`CSV record ${at + 1} has ${fields.length} fields; the header has ${width}`);
  });
  return records;
}
