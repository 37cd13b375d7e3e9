// The catalogue, written with an ORM (Sequelize 6, models over the shop schema): orm_lazy_n_plus_one.
// GET /categories lists a page of 12 categories, then lazily loads each one's products through the
// association (category.getProducts()): one query per category, one after another. OpenTelemetry
// only (@opentelemetry/instrumentation-sequelize above the pg instrumentation's spans).
'use strict';
const express = require('express');
const { Sequelize, DataTypes } = require('sequelize');
const { listen, route, required } = require('../lib/service');

const sequelize = new Sequelize(required('PG_APP_DSN'), { logging: false, pool: { max: 10 } });
const Category = sequelize.define('Category', {
  id: { type: DataTypes.INTEGER, primaryKey: true },
  name: DataTypes.TEXT,
}, { tableName: 'categories', timestamps: false });
const Product = sequelize.define('Product', {
  id: { type: DataTypes.BIGINT, primaryKey: true },
  name: DataTypes.TEXT,
  price_cents: DataTypes.INTEGER,
  stock: DataTypes.INTEGER,
}, { tableName: 'products', timestamps: false });
Category.hasMany(Product, { foreignKey: 'category_id', as: 'products' });

const app = express();
app.get('/categories', route(async (req, res) => {
  const categories = await Category.findAll({ order: [['id', 'ASC']], limit: 12, offset: Number(req.query.offset || 0) });
  const page = [];
  for (const category of categories) {
    const products = await category.getProducts({ order: [['id', 'ASC']], limit: 5 });
    page.push({ ...category.toJSON(), products: products.map((p) => p.toJSON()) });
  }
  res.json(page);
}));

listen(app);
