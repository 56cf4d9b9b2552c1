import { DataSource } from 'typeorm';
import { loadDatabaseConfig } from '../config/database.config';
import { buildDataSourceOptions } from './data-source-options';

/** The DataSource the TypeORM CLI loads (`typeorm -d dist/src/database/data-source.js …`). */
export default new DataSource(buildDataSourceOptions(loadDatabaseConfig(process.env)));
