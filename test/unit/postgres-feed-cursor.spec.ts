/**
 * The PostgreSQL feed's cursor: `epoch:tx:position` as `FeedBatch.cursor` gives it, read back into
 * its parts, and text that lacks a part read as no cursor (the feed then starts over).
 */
import fc from 'fast-check';
import { feedOrigin, formatFeedCursor, parseFeedCursor } from '../../lib/storage/postgres/feed-cursor';

const digits = fc.stringMatching(/^[0-9]{1,19}$/);

describe('PostgreSQL feed cursor', () => {
  it('formats a cursor as epoch:tx:position', () => {
    expect(formatFeedCursor({ epoch: '3', tx: '7421', position: '18' })).toBe('3:7421:18');
  });

  it('reads back every cursor it formats', () => {
    fc.assert(
      fc.property(digits, digits, digits, (epoch, tx, position) => {
        expect(parseFeedCursor(formatFeedCursor({ epoch, tx, position }))).toEqual({ epoch, tx, position });
      }),
    );
  });

  it('reads text without a tx or a position as no cursor', () => {
    expect(parseFeedCursor('3')).toBeNull();
    expect(parseFeedCursor('3:7421')).toBeNull();
    expect(parseFeedCursor('')).toBeNull();
  });

  it('starts an epoch before its first row', () => {
    expect(feedOrigin('4')).toEqual({ epoch: '4', tx: '0', position: '0' });
    expect(formatFeedCursor(feedOrigin('4'))).toBe('4:0:0');
  });
});
