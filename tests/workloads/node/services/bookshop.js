// The bookshop's GraphQL API (graphql-js 16 served by graphql-http on express, pg):
//   graphql_resolver_n_plus_one   Book.author queries its author per book; graphql-js runs the
//                                 12 books' resolvers concurrently: 12 lookups in flight at once
//   graphql_dataloader            AUTHOR_LOADER=dataloader: the same resolver through a
//                                 request-scoped DataLoader, one WHERE id = ANY($1) query
// OpenTelemetry only (@opentelemetry/instrumentation-graphql, trivial resolvers not traced).
'use strict';
const express = require('express');
const DataLoader = require('dataloader');
const { GraphQLSchema, GraphQLObjectType, GraphQLList, GraphQLInt, GraphQLString, GraphQLNonNull } = require('graphql');
const { createHandler } = require('graphql-http/lib/use/express');
const { listen, required } = require('../lib/service');
const { Pool } = require('pg');

const db = new Pool({ connectionString: required('PG_APP_DSN'), max: 10 });

// The author of one book: its own query (pool.query: each lookup checks out a connection).
async function authorById(id) {
  const { rows } = await db.query('SELECT id, name, country FROM authors WHERE id = $1', [id]);
  return rows[0];
}
// The authors of all the books a request resolves, in one query (DataLoader batches the ids the
// resolvers asked for in the same tick).
function authorLoader() {
  return new DataLoader(async (ids) => {
    const { rows } = await db.query('SELECT id, name, country FROM authors WHERE id = ANY($1)', [ids]);
    const byId = new Map(rows.map((a) => [a.id, a]));
    return ids.map((id) => byId.get(id) || null);
  });
}

const Author = new GraphQLObjectType({
  name: 'Author',
  fields: { id: { type: GraphQLInt }, name: { type: GraphQLString }, country: { type: GraphQLString } },
});
const Book = new GraphQLObjectType({
  name: 'Book',
  fields: {
    id: { type: GraphQLInt },
    title: { type: GraphQLString },
    published: { type: GraphQLInt },
    author: { type: Author, resolve: (book, args, ctx) => ctx.author(book.author_id) },
  },
});
const Query = new GraphQLObjectType({
  name: 'Query',
  fields: {
    books: {
      type: new GraphQLList(Book),
      args: { first: { type: new GraphQLNonNull(GraphQLInt) }, offset: { type: GraphQLInt } },
      resolve: async (root, { first, offset }) => {
        const { rows } = await db.query('SELECT id, title, published, author_id FROM books ORDER BY id LIMIT $1 OFFSET $2', [
          Math.min(first, 50), offset || 0,
        ]);
        return rows;
      },
    },
  },
});
const schema = new GraphQLSchema({ query: Query });
const useLoader = process.env.AUTHOR_LOADER === 'dataloader';

const app = express();
app.all('/graphql', createHandler({
  schema,
  context: () => {
    if (!useLoader) return { author: authorById };
    const loader = authorLoader();
    return { author: (id) => loader.load(id) };
  },
}));
listen(app);
